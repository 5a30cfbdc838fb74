/** Hides tokens in a string before it reaches a log line. */
export type Redactor = (text: string) => string;

const REDACTED = '[REDACTED]';
/** A name=value pair of a query (also after `;`, which some parsers take as a separator). */
const QUERY_PAIR = /([?&;])([^=&;#?]*)=([^&;#]*)/g;

/**
 * A redactor for URLs (and other strings a request sent, such as its Host). Three layers,
 * because a URL may spell a parameter in many ways (`%74oken=`, `TOKEN=`, `tok%65n=`) that
 * the server refuses but the log would otherwise keep verbatim (API.md, Auth):
 * 1. the value of every parameter whose decoded name is `token` in any case is hidden;
 * 2. every occurrence of the actual token, raw or percent-encoded in any mix, is hidden;
 * 3. a string that still holds the token once fully decoded is hidden whole.
 */
export function urlRedactor(secret: string | null): Redactor {
  const secretPattern = secret === null || secret === '' ? null : spellingsOf(secret);
  return (text) => {
    const byName = text.replace(QUERY_PAIR, (pair, separator: string, name: string) => (isTokenName(name) ? `${separator}${name}=${REDACTED}` : pair));
    if (secretPattern === null) return byName;
    const byValue = byName.replace(secretPattern, REDACTED);
    const stillThere = decodeFully(byValue).includes(secret!) || decodeFully(byValue.replace(/\+/g, ' ')).includes(secret!);
    return stillThere ? REDACTED : byValue;
  };
}

/** `token`, `TOKEN`, `%74oken`, `tok%65n`, `token[]`: all names that mean the token to someone. */
function isTokenName(rawName: string): boolean {
  return decodeFully(rawName.replace(/\+/g, ' ')).toLowerCase().replace(/[^a-z]/g, '') === 'token';
}

/** A regular expression matching the secret with each character raw or percent-encoded (`+` for a space). */
function spellingsOf(secret: string): RegExp {
  const parts = [...secret].map((char) => {
    const encoded = [...Buffer.from(char, 'utf8')].map((byte) => `%${hexBothCases(byte)}`).join('');
    const alternatives = [escapeRegExp(char), encoded, ...(char === ' ' ? ['\\+'] : [])];
    return `(?:${alternatives.join('|')})`;
  });
  return new RegExp(parts.join(''), 'g');
}

function hexBothCases(byte: number): string {
  return [...byte.toString(16).padStart(2, '0')].map((digit) => (/[a-f]/.test(digit) ? `[${digit}${digit.toUpperCase()}]` : digit)).join('');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Percent-decodes until nothing changes (double encoding included), leaving bad escapes as they are. */
function decodeFully(text: string): string {
  let current = text;
  for (let round = 0; round < 4; round += 1) {
    const next = decodeLoosely(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

function decodeLoosely(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // One bad escape must not hide the others: decode the well-formed runs of escapes alone.
    return text.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}
