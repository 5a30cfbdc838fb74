import { formatHash } from './permalink.js';

/**
 * What the Workers view shows of one worker of GET /api/workers, worked out without the DOM
 * so that it is tested under Node; the view only puts these strings into text nodes.
 */

/** The statuses of the contract (API.md, GET /api/workers); anything else is shown as sent, unstyled. */
export const WORKER_STATUSES = ['idle', 'busy', 'stopping', 'lost'];

const STATUS_LABELS = {
  idle: 'idle',
  busy: 'busy',
  stopping: 'stopping',
  lost: 'lost',
};

/** `busy` → `busy`; a status this page does not know is shown as the server sent it. */
export function workerStatusLabel(status) {
  return STATUS_LABELS[status] ?? String(status);
}

/** `just now`, `12 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; a time ahead of this clock (skew) is `just now`. */
export function formatAgo(ms) {
  if (ms === null || ms === undefined || Number.isNaN(ms)) return '';
  const seconds = Math.floor(Math.max(0, ms) / 1000);
  if (seconds < 1) return 'just now';
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
  return `${Math.floor(seconds / 86400)} d ago`;
}

/**
 * What a build says of its worker: `on <name>`, or nothing while it is queued (Build.worker is
 * null then) and for a build recorded before builds named their worker.
 */
export function workerCaption(build) {
  return typeof build?.worker === 'string' && build.worker !== '' ? `on ${build.worker}` : '';
}

/**
 * One worker as the view shows it: its name, status (label and the class that colours it),
 * its builds as links to `#build=<id>`, its slots (`1/2`) and when it was last seen.
 */
export function workerRow(worker, nowMs) {
  const builds = Array.isArray(worker.builds) ? worker.builds.map(String) : [];
  const lastSeenMs = Date.parse(worker.lastSeenAt);
  return {
    name: String(worker.name),
    status: String(worker.status),
    statusLabel: workerStatusLabel(worker.status),
    statusClass: WORKER_STATUSES.includes(worker.status) ? `status-${worker.status}` : 'status-unknown',
    builds: builds.map((id) => ({ id, href: formatHash(id) })),
    slots: `${builds.length}/${worker.maxConcurrentBuilds}`,
    lastSeen: Number.isNaN(lastSeenMs) ? '' : formatAgo(nowMs - lastSeenMs),
    lastSeenAt: Number.isNaN(lastSeenMs) ? '' : String(worker.lastSeenAt),
  };
}

/** The rows of a workers answer, by name, so that rows keep their place between polls whatever order the cluster answers in. */
export function workerRows(workers, nowMs) {
  return workers.map((worker) => workerRow(worker, nowMs)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
