import { workerRows } from './worker-row.js';

/**
 * The Workers panel: the processes that run builds (GET /api/workers), one item each with
 * its status, its builds as links, its slots and when it was last seen. Every string goes
 * into a text node or an attribute through the DOM, never through markup.
 */
export class WorkersView {
  constructor(list, message) {
    this.list = list;
    this.message = message;
  }

  /** Shows a workers answer, its last-seen times measured against `nowMs`. */
  render(workers, nowMs = Date.now()) {
    const rows = workerRows(workers, nowMs);
    this.showMessage(rows.length === 0 ? 'No process runs builds for this server.' : '');
    this.list.replaceChildren(...rows.map((row) => renderRow(row)));
  }

  /** Says why the list could not be refreshed; the last list that came stays shown. */
  showError(text) {
    this.showMessage(text);
  }

  showMessage(text) {
    // A status region may announce every write: only a change of words is written.
    if (this.message.textContent !== text) this.message.textContent = text;
    this.message.hidden = text === '';
  }
}

function renderRow(row) {
  const item = document.createElement('li');
  item.className = `worker ${row.statusClass}`;
  item.dataset.worker = row.name;

  const heading = document.createElement('p');
  heading.className = 'worker-heading';
  const name = document.createElement('span');
  name.className = 'name';
  name.textContent = row.name;
  const badge = document.createElement('span');
  badge.className = 'badge';
  badge.dataset.role = 'worker-status';
  badge.textContent = row.statusLabel;
  heading.append(name, ' ', badge);

  const builds = document.createElement('p');
  builds.className = 'worker-builds';
  builds.dataset.role = 'worker-builds';
  if (row.builds.length === 0) builds.append(muted('no build running'));
  row.builds.forEach((build, index) => {
    const link = document.createElement('a');
    link.href = build.href;
    link.dataset.build = build.id;
    link.textContent = build.id;
    if (index > 0) builds.append(', ');
    builds.append(link);
  });

  const details = document.createElement('p');
  details.className = 'worker-details';
  const slots = document.createElement('span');
  slots.dataset.role = 'worker-slots';
  slots.title = 'builds running / MAX_CONCURRENT_BUILDS';
  slots.textContent = `${row.slots} slots`;
  details.append(slots);
  if (row.lastSeen) {
    const seen = document.createElement('time');
    seen.dataset.role = 'worker-last-seen';
    seen.dateTime = row.lastSeenAt;
    seen.title = row.lastSeenAt;
    seen.textContent = `seen ${row.lastSeen}`;
    details.append(' · ', seen);
  }

  item.append(heading, builds, details);
  return item;
}

function muted(text) {
  const span = document.createElement('span');
  span.className = 'muted';
  span.textContent = text;
  return span;
}
