/**
 * A line that names an error: `error` starting a word (`error:`, `3 errors`), `Error` anywhere
 * (`Error:`, `TypeError`), `ERROR`, or npm's `ERR!`. Not `onerror` or `terror`.
 */
export const ERROR_PATTERN = /(?<![a-z])error|Error|ERROR|ERR!/;

/**
 * The line to jump to for "first error": the first stdout or stderr line whose text matches
 * ERROR_PATTERN; when there is none, the first stderr line. The server's own `system` lines
 * (`$ yarn build`, the verdict) never count. Returns the line's index, or -1.
 */
export function findFirstError(lines) {
  let firstStderr = -1;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (line.stream === 'system') continue;
    if (ERROR_PATTERN.test(line.text)) return i;
    if (firstStderr === -1 && line.stream === 'stderr') firstStderr = i;
  }
  return firstStderr;
}
