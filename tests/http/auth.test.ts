import { offeredToken, queryToken } from '../../src/http/auth.js';

describe('queryToken', () => {
  it('reads the plain token= parameter of a raw URL', () => {
    expect(queryToken('/api/log/push?build=b1&token=s3cret')).toBe('s3cret');
    expect(queryToken('/api/log/push?token=s3cret')).toBe('s3cret');
  });

  it('decodes what must be encoded, as encodeURIComponent writes it', () => {
    expect(queryToken(`/x?token=${encodeURIComponent('a+b/c=d é')}`)).toBe('a+b/c=d é');
    expect(queryToken('/x?token=a%2bb')).toBe('a+b');
    expect(queryToken(`/x?${new URLSearchParams({ token: 'a~b c*' })}`)).toBe('a~b c*'); // what the page's EventSource URL holds
  });

  it.each([
    ['no query', '/api/builds'],
    ['no token', '/api/builds?limit=2'],
    ['an encoded name', '/api/builds?%74oken=s3cret'],
    ['another encoded letter', '/api/builds?tok%65n=s3cret'],
    ['capitals', '/api/builds?TOKEN=s3cret'],
    ['mixed case', '/api/builds?Token=s3cret'],
    ['an escape of a letter in the value', '/api/builds?token=%73%33cret'],
    ['an escape of a digit in the value', '/api/builds?token=s%33cret'],
    ['the name twice', '/api/builds?token=s3cret&token=s3cret'],
    ['a malformed escape', '/api/builds?token=%E0%A4%A'],
    ['a name with a suffix', '/api/builds?token[]=s3cret'],
  ])('finds no token in a URL with %s', (_what, url) => expect(queryToken(url)).toBeUndefined());
});

describe('offeredToken', () => {
  it('prefers the Bearer header over the query', () => expect(offeredToken('Bearer from-header', '/x?token=from-query')).toBe('from-header'));
  it('falls back to the plain query parameter', () => expect(offeredToken(undefined, '/x?token=from-query')).toBe('from-query'));
});
