import { urlRedactor } from '../../src/http/redact-url.js';

const SECRET = 'Sekr1t-value_x';
const percentAll = (text: string) => [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).join('');

describe('urlRedactor', () => {
  const redact = urlRedactor(SECRET);

  it('hides the value of token= and keeps the rest of the URL', () =>
    expect(redact('/api/builds?token=anything&limit=2')).toBe('/api/builds?token=[REDACTED]&limit=2'));

  it.each([
    ['%74oken=abc', '%74oken=[REDACTED]'],
    ['TOKEN=abc', 'TOKEN=[REDACTED]'],
    ['tok%65n=abc', 'tok%65n=[REDACTED]'],
    ['%2574oken=abc', '%2574oken=[REDACTED]'],
    ['token%5B%5D=abc', 'token%5B%5D=[REDACTED]'],
    ['to+ken=abc', 'to+ken=[REDACTED]'],
  ])('hides the value of a parameter whose decoded name is token: ?%s', (query, expected) =>
    expect(redact(`/api/builds?limit=1&${query}`)).toBe(`/api/builds?limit=1&${expected}`));

  it('also after ; and in a URL without AUTH_TOKEN', () => expect(urlRedactor(null)('/x?a=1;token=abc')).toBe('/x?a=1;token=[REDACTED]'));

  it('hides the actual token anywhere, raw or percent-encoded in any mix of cases', () => {
    expect(redact(`/api/builds/${SECRET}?x=${SECRET}`)).toBe('/api/builds/[REDACTED]?x=[REDACTED]');
    expect(redact(`/api/builds?x=${percentAll(SECRET)}`)).toBe('/api/builds?x=[REDACTED]');
    expect(redact(`/api/builds?x=${percentAll(SECRET).toUpperCase()}`)).toBe('/api/builds?x=[REDACTED]');
    expect(redact(`/api/builds?x=Se%6Br1t-value_x`)).toBe('/api/builds?x=[REDACTED]');
  });

  it('hides a whole string that still holds the token once fully decoded (double encoding)', () =>
    expect(redact(`/api/builds?x=${encodeURIComponent(percentAll(SECRET))}`)).toBe('[REDACTED]'));

  it('matches a token with spaces and symbols literally, not as a pattern', () => {
    const odd = urlRedactor('a.b c+(d)');
    expect(odd('/x?q=a.b+c%2B(d)')).toBe('/x?q=[REDACTED]');
    expect(odd('/x?q=aXb c+(d)')).toBe('/x?q=aXb c+(d)');
  });

  it('leaves URLs without a token alone', () => expect(redact('/api/builds?limit=2&raw=1')).toBe('/api/builds?limit=2&raw=1'));
});
