/** Small formatting helpers shared by the views; all pure. */

/** `850 ms`, `3.2 s`, `2 min 05 s`, `1 h 02 min`. */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  const safe = Math.max(0, ms);
  if (safe < 1000) return `${Math.round(safe)} ms`;
  if (safe < 60000) return `${(safe / 1000).toFixed(1)} s`;
  const seconds = Math.floor(safe / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
  return `${Math.floor(seconds / 3600)} h ${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')} min`;
}

/** How long something between two ISO times took, or has taken so far when it has no end. */
export function elapsedMs(startedAt, finishedAt, nowMs = Date.now()) {
  if (!startedAt) return null;
  const end = finishedAt ? Date.parse(finishedAt) : nowMs;
  return end - Date.parse(startedAt);
}

/** `HH:mm:ss.SSS` of a log event's `YYYY-MM-DD HH:mm:ss.SSS` time. */
export function clockTime(time) {
  return time.length > 11 ? time.slice(11) : time;
}

/** The last folder name of a project path. */
export function projectName(projectPath) {
  const parts = projectPath.split('/').filter(Boolean);
  return parts[parts.length - 1] ?? projectPath;
}

/** A local date and time for lists: `14:03:27` today, else `2024-05-02 14:03`. */
export function shortDateTime(iso, now = new Date()) {
  const date = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  if (date.toDateString() === now.toDateString()) return time;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${time.slice(0, 5)}`;
}

/** `timed_out` → `timed out`. */
export function statusLabel(status) {
  return status.replace(/_/g, ' ');
}

/** The statuses of a build that is over. */
export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** Whether a build (or step) status is final. */
export function isFinished(status) {
  return TERMINAL_STATUSES.includes(status);
}
