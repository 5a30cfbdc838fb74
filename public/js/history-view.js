import { formatDuration, projectName, shortDateTime, statusLabel } from './format.js';
import { formatHash } from './permalink.js';
import { workerCaption } from './worker-row.js';

/** The list of recent builds, newest first; each is a link to `#build=<id>` and names its worker once it has one. */
export class HistoryView {
  constructor(list, empty) {
    this.list = list;
    this.empty = empty;
  }

  render(builds, selectedId) {
    this.empty.hidden = builds.length > 0;
    this.list.replaceChildren(
      ...builds.map((build) => {
        const item = document.createElement('li');
        const link = document.createElement('a');
        link.href = formatHash(build.id);
        link.dataset.build = build.id;
        if (build.id === selectedId) link.setAttribute('aria-current', 'page');
        const badge = document.createElement('span');
        badge.className = `badge status-${build.status}`;
        badge.textContent = statusLabel(build.status);
        const name = document.createElement('span');
        name.className = 'name';
        name.textContent = projectName(build.projectPath);
        const when = document.createElement('time');
        when.dateTime = build.createdAt;
        when.textContent = shortDateTime(build.createdAt);
        const took = document.createElement('span');
        took.className = 'duration';
        took.textContent = formatDuration(build.durationMs);
        link.append(name, ' ', badge, ' ', when, ' ', took);
        const caption = workerCaption(build);
        if (caption) {
          const worker = document.createElement('span');
          worker.className = 'worker';
          worker.textContent = caption;
          link.append(' ', worker);
        }
        item.append(link);
        return item;
      }),
    );
  }
}
