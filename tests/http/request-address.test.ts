import { hostnameOf, requestAddress } from '../../src/http/request-address.js';

const plainSocket = { isEncrypted: false, remoteAddress: '::ffff:10.1.2.3' };

describe('requestAddress', () => {
  it('takes the socket and Host header when no proxy is trusted, ignoring forwarded headers', () =>
    expect(
      requestAddress({ host: 'Builds.Example:3000', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-forwarded-for': '6.6.6.6' }, plainSocket, false),
    ).toEqual({ scheme: 'http', host: 'Builds.Example:3000', hostname: 'builds.example', clientAddress: '10.1.2.3' }));

  it('says https for a TLS socket', () => expect(requestAddress({ host: 'a' }, { isEncrypted: true, remoteAddress: '::1' }, false).scheme).toBe('https'));

  it('takes the last entry of each forwarded header behind a trusted proxy', () =>
    expect(
      requestAddress(
        { host: '127.0.0.1:3000', 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'spoofed.example, builds.example.com', 'x-forwarded-for': '6.6.6.6, 203.0.113.9' },
        plainSocket,
        true,
      ),
    ).toEqual({ scheme: 'https', host: 'builds.example.com', hostname: 'builds.example.com', clientAddress: '203.0.113.9' }));

  it('falls back to the socket when a trusted proxy sent no forwarded headers', () =>
    expect(requestAddress({ host: 'localhost:3000' }, plainSocket, true)).toEqual({ scheme: 'http', host: 'localhost:3000', hostname: 'localhost', clientAddress: '10.1.2.3' }));

  it('has an empty host when none was sent', () => expect(requestAddress({}, plainSocket, false).hostname).toBe(''));
});

describe('hostnameOf', () => {
  it.each([
    ['localhost:3000', 'localhost'],
    ['[::1]:3000', '::1'],
    ['[::1]', '::1'],
    ['EXAMPLE.com', 'example.com'],
    ['', ''],
  ])('%j → %j', (host, expected) => expect(hostnameOf(host)).toBe(expected));
});
