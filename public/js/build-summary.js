import { elapsedMs, formatDuration, isFinished, projectName, statusLabel } from './format.js';
import { workerCaption } from './worker-row.js';

/**
 * The selected build's heading: project, status badge, elapsed time (live while it runs),
 * the worker that runs it (none while it is queued), exit code, and the actions that depend on
 * its state (Cancel, Download).
 */
export class BuildSummary {
  constructor(root) {
    this.title = root.querySelector('#build-title');
    this.path = root.querySelector('#build-path');
    this.badge = root.querySelector('#build-badge');
    this.elapsed = root.querySelector('#build-elapsed');
    this.worker = root.querySelector('#build-worker');
    this.exitCode = root.querySelector('#build-exit');
    this.steps = root.querySelector('#build-steps');
    this.cancel = root.querySelector('#cancel-button');
    this.download = root.querySelector('#download-link');
    this.status = root.querySelector('.build-status');
  }

  /** Shows a build, or nothing (null), or a build that is being loaded ({id} only). */
  render(buildId, build) {
    this.status.hidden = !buildId;
    this.download.hidden = !buildId;
    this.cancel.hidden = !buildId;
    if (!buildId) {
      this.title.textContent = 'No build selected';
      this.path.textContent = 'Pick a project and press Build, or open a build from the list.';
      this.steps.replaceChildren();
      document.title = 'Build log';
      return;
    }
    const name = build ? projectName(build.projectPath) : buildId;
    this.title.textContent = `${name} · build ${buildId}`;
    this.path.textContent = build?.projectPath ?? '';
    const status = build?.status ?? 'loading';
    this.badge.className = `badge status-${status}`;
    this.badge.textContent = statusLabel(status);
    this.worker.textContent = workerCaption(build);
    this.worker.hidden = this.worker.textContent === '';
    this.exitCode.textContent = build && build.exitCode !== null ? `exit code ${build.exitCode}` : '';
    this.cancel.disabled = !build || isFinished(build.status);
    this.download.href = `/api/builds/${encodeURIComponent(buildId)}/log?raw=1`;
    this.download.dataset.build = buildId;
    this.download.download = `${name}-${buildId}.log`;
    if (!build) this.renderSteps([]);
    this.tick(build);
    document.title = `${name}: ${statusLabel(status)} · Build log`;
  }

  renderSteps(steps) {
    this.steps.replaceChildren(
      ...steps.map((step) => {
        const item = document.createElement('li');
        item.className = `step status-${step.status}`;
        const took = formatDuration(elapsedMs(step.startedAt, step.finishedAt));
        item.textContent = `${step.name}: ${statusLabel(step.status)}${took ? ` (${took})` : ''}`;
        return item;
      }),
    );
  }

  /** Updates the elapsed times; called every second while the build runs. */
  tick(build) {
    if (build) this.renderSteps(build.steps);
    if (!build?.startedAt) {
      this.elapsed.textContent = build?.status === 'queued' ? 'waiting in the queue' : '';
      return;
    }
    const took = formatDuration(build.durationMs ?? elapsedMs(build.startedAt, build.finishedAt));
    this.elapsed.textContent = isFinished(build.status) ? `took ${took}` : `running for ${took}`;
  }
}
