/**
 * The page's address says what it shows: `#build=<id>` selects a build and `#build=<id>&L123`
 * also points at its line 123 (1-based). Everything lives in the fragment, so the server
 * never sees it and a reload or a shared link opens the same place.
 */

/** Reads a location hash; unknown parts are ignored. */
export function parseHash(hash) {
  const result = { build: null, line: null };
  for (const part of hash.replace(/^#/, '').split('&')) {
    const build = /^build=([0-9A-Za-z_-]{1,64})$/.exec(part);
    if (build) result.build = build[1];
    const line = /^L([1-9]\d{0,8})$/.exec(part);
    if (line) result.line = Number(line[1]);
  }
  return result;
}

/** The hash for a build, and optionally one of its lines. */
export function formatHash(build, line = null) {
  if (!build) return '';
  return line ? `#build=${build}&L${line}` : `#build=${build}`;
}
