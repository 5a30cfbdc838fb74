import { hostOriginPolicy, isHostCheckExempt, normalizeOrigin, ownOrigin, type HostOriginSettings } from '../../src/http/host-origin-policy.js';
import { requestAddress } from '../../src/http/request-address.js';

const plain: HostOriginSettings = { publicUrl: null, allowedHosts: [], corsOrigins: null, trustProxy: false };
const behindProxy: HostOriginSettings = {
  publicUrl: { href: 'https://builds.example.com/', origin: 'https://builds.example.com', hostname: 'builds.example.com' },
  allowedHosts: ['ci.internal'],
  corsOrigins: ['https://ops.example'],
  trustProxy: true,
};
const socket = { isEncrypted: false, remoteAddress: '127.0.0.1' };
const at = (host: string, extra: Record<string, string> = {}, settings = plain) => requestAddress({ host, ...extra }, socket, settings.trustProxy);

describe('hostOriginPolicy: hosts', () => {
  const policy = hostOriginPolicy(plain);

  it.each(['localhost', 'localhost:3000', 'LOCALHOST:1', '127.0.0.1:3101', '10.1.2.3', '[::1]:3000', '[2001:db8::1]'])('allows %s without any setting', (host) =>
    expect(policy.checkHost(at(host), { host })).toBeNull());

  it.each(['evil.example:3101', 'localhost.evil.example', '127.0.0.1.nip.io', 'sub.localhost', ''])('refuses "%s" without any setting', (host) =>
    expect(policy.checkHost(at(host), { host })?.code).toBe('forbidden_host'));

  it('names the host received, what is allowed and the variables that allow it', () =>
    expect(policy.checkHost(at('evil.example:3101'), {})?.message).toBe(
      'Host "evil.example:3101" is not allowed; allowed: localhost, IP addresses; set ALLOWED_HOSTS or PUBLIC_URL to allow it.',
    ));

  it('says when no host was named at all', () => expect(policy.checkHost(at(''), {})?.message).toMatch(/^The request names no host \(no Host header\)/));

  it('allows the host of PUBLIC_URL and the ALLOWED_HOSTS, and lists them when it refuses', () => {
    const proxied = hostOriginPolicy(behindProxy);
    const forwarded = (host: string) => at('127.0.0.1:3000', { 'x-forwarded-host': host }, behindProxy);
    expect(proxied.checkHost(forwarded('builds.example.com'), { 'x-forwarded-host': 'builds.example.com' })).toBeNull();
    expect(proxied.checkHost(forwarded('CI.internal:8080'), { 'x-forwarded-host': 'CI.internal:8080' })).toBeNull();
    expect(proxied.checkHost(forwarded('evil.example'), { 'x-forwarded-host': 'evil.example' })?.message).toBe(
      'X-Forwarded-Host "evil.example" is not allowed; allowed: localhost, IP addresses, builds.example.com (PUBLIC_URL), ci.internal (ALLOWED_HOSTS); set ALLOWED_HOSTS or PUBLIC_URL to allow it.',
    );
  });

  it('allows any host with ALLOWED_HOSTS=*', () => expect(hostOriginPolicy({ ...plain, allowedHosts: '*' }).checkHost(at('evil.example'), {})).toBeNull());

  it('exempts GET and HEAD /healthz only', () => {
    expect(isHostCheckExempt('GET', '/healthz')).toBe(true);
    expect(isHostCheckExempt('HEAD', '/healthz')).toBe(true);
    expect(isHostCheckExempt('POST', '/healthz')).toBe(false);
    expect(isHostCheckExempt('GET', '/healthz/')).toBe(false);
    expect(isHostCheckExempt('GET', '/')).toBe(false);
  });
});

describe('hostOriginPolicy: origins', () => {
  const policy = hostOriginPolicy(plain);

  it('lets a request without Origin pass', () => {
    expect(policy.checkOrigin(undefined, at('localhost:3000'))).toBeNull();
    expect(policy.checkOrigin('', at('localhost:3000'))).toBeNull();
  });

  it('allows the request\'s own origin, compared as browsers serialize origins', () => {
    expect(policy.checkOrigin('http://localhost:3000', at('localhost:3000'))).toBeNull();
    expect(policy.checkOrigin('http://localhost', at('LocalHost:80'))).toBeNull();
    expect(policy.checkOrigin('http://[::1]:3000', at('[::1]:3000'))).toBeNull();
  });

  it('refuses another scheme, host or port, and `null`, naming what it got and what it expected', () => {
    for (const origin of ['https://localhost:3000', 'http://localhost:3001', 'http://evil.example', 'null', 'file://', 'garbage']) {
      expect([origin, policy.checkOrigin(origin, at('localhost:3000'))?.code]).toEqual([origin, 'forbidden_origin']);
    }
    expect(policy.checkOrigin('https://localhost:3000', at('localhost:3000'))?.message).toBe(
      'Origin "https://localhost:3000" is not allowed; expected "http://localhost:3000" (this request\'s own origin); ' +
        'set PUBLIC_URL (or TRUST_PROXY=true behind a proxy that sends X-Forwarded-Proto and X-Forwarded-Host), or CORS_ORIGINS, to allow it.',
    );
  });

  it('takes the own origin\'s scheme from a trusted X-Forwarded-Proto, and allows PUBLIC_URL\'s origin and CORS_ORIGINS', () => {
    const proxied = hostOriginPolicy(behindProxy);
    const viaProxy = at('ci.internal', { 'x-forwarded-proto': 'https' }, behindProxy);
    expect(proxied.checkOrigin('https://ci.internal', viaProxy)).toBeNull();
    expect(proxied.checkOrigin('https://builds.example.com', at('127.0.0.1:3000', {}, behindProxy))).toBeNull();
    expect(proxied.checkOrigin('https://ops.example', viaProxy)).toBeNull();
    expect(proxied.checkOrigin('https://evil.example', viaProxy)?.message).toContain(
      'expected "https://ci.internal" (this request\'s own origin) or "https://builds.example.com" (PUBLIC_URL) or one of CORS_ORIGINS (https://ops.example)',
    );
  });

  it('allows any origin with CORS_ORIGINS=*', () => expect(hostOriginPolicy({ ...plain, corsOrigins: '*' }).checkOrigin('null', at('localhost'))).toBeNull());
});

describe('ownOrigin and normalizeOrigin', () => {
  it('drop default ports and lower-case the host', () => {
    expect(normalizeOrigin('HTTPS://Builds.Example.com:443')).toBe('https://builds.example.com');
    expect(ownOrigin(requestAddress({ host: 'Example.com:80' }, socket, false))).toBe('http://example.com');
  });

  it('have no origin for null, other schemes or no host', () => {
    expect(normalizeOrigin('null')).toBeNull();
    expect(normalizeOrigin('ftp://example.com')).toBeNull();
    expect(ownOrigin(requestAddress({}, socket, false))).toBeNull();
  });
});
