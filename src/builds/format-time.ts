import dayjs from 'dayjs';

let lastMs = Number.NaN;
let lastText = '';

/**
 * The contract's `time`: local time as `YYYY-MM-DD HH:mm:ss.SSS`. Lines of one chunk share a
 * timestamp, so the last result is reused rather than formatted again for each line.
 */
export function formatLogTime(ms: number): string {
  if (ms !== lastMs) {
    lastText = dayjs(ms).format('YYYY-MM-DD HH:mm:ss.SSS');
    lastMs = ms;
  }
  return lastText;
}
