import { BuildLogNetworkError, createBuildLogClient } from '/client.js';
import { BuildLog } from './build-log.js';
import { elapsedMs, formatDuration, isFinished, projectName, statusLabel } from './format.js';
import { LogSearch } from './log-search.js';
import { LogView } from './log-view.js';
import { SearchBox } from './search-box.js';

/**
 * `<build-log server=... build=...>` (or `project=...`): a build's log as the page renders it,
 * for other sites' pages (a dashboard, a dev-tools panel). The log itself is the page's own
 * code (BuildLog, LogView, VirtualList, LogSearch, SearchBox) and the page's own stylesheet
 * (log-view.css), inside a shadow root, so neither the host page's styles nor its framework
 * reach it. It talks to the server through the typed client (/client.js), which resumes
 * after every kind of interruption and never hands the same event twice.
 *
 * Attributes: server (default: where this module came from), build, project, token, follow,
 * timestamps, height, theme (light | dark | auto). Events (bubbling, composed):
 * `build-log:status` and `build-log:end`, with the Build as detail. Method: cancel().
 */

/** Where this module came from: the default server, and where the page's stylesheet is. */
const MODULE_ORIGIN = new URL(import.meta.url).origin;

/** How many recent builds are searched for a project's latest one. */
const PROJECT_LOOKUP_LIMIT = 50;

/**
 * The element's own rules, around the page's log view. `all: initial` on the host stops the
 * properties a host page's elements inherit (a huge font, a colour, letter-spacing) at the
 * boundary; only the documented --build-log-* properties are meant to cross it.
 */
const ELEMENT_CSS = `
:host {
  all: initial;
  display: block;
  contain: content;
  color-scheme: light dark;
  color: var(--fg);
  background: var(--bg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
}
:host([theme="light"]) { color-scheme: light; }
:host([theme="dark"]) { color-scheme: dark; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
.frame {
  display: flex;
  flex-direction: column;
  gap: 0.5rem;
  height: var(--build-log-height, 28rem);
  padding: 0.5rem;
  border: 1px solid var(--border);
  border-radius: 8px;
  background: var(--bg);
}
.head, .toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.8rem; }
.title { font-weight: 600; overflow-wrap: anywhere; }
.elapsed, .count, output { color: var(--muted); font-size: 0.9em; }
.steps { display: flex; gap: 0.4rem; list-style: none; margin: 0; padding: 0; font-size: 0.9em; }
.steps:empty { display: none; }
.steps .step { border: 1px solid var(--border); border-radius: 999px; padding: 0 0.6rem; }
.message { margin: 0; padding: 0.4rem 0.6rem; border: 1px solid var(--bad); border-radius: 6px; color: var(--bad); }
.search { display: flex; align-items: center; gap: 0.3rem; margin: 0; }
button, input { font: inherit; color: inherit; margin: 0; }
button {
  border: 1px solid var(--border);
  background: var(--panel);
  border-radius: 6px;
  padding: 0.15rem 0.6rem;
  cursor: pointer;
}
button:disabled { opacity: 0.55; cursor: not-allowed; }
button[aria-pressed="true"] { background: var(--accent-strong); border-color: var(--accent-strong); color: #fff; }
input { border: 1px solid var(--border); background: var(--bg); border-radius: 6px; padding: 0.15rem 0.5rem; width: 12rem; }
a { color: var(--accent); }
:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
.log-frame { min-height: 6rem; }
`;

const TEMPLATE = `
<div class="frame" part="frame">
  <div class="head">
    <span class="title" data-role="title"></span>
    <span class="badge" data-role="badge" hidden></span>
    <span class="elapsed" data-role="elapsed"></span>
    <ol class="steps" data-role="steps" aria-label="Steps"></ol>
    <button type="button" data-role="cancel" hidden>Cancel</button>
  </div>
  <p class="message" data-role="message" role="alert" hidden></p>
  <div class="toolbar">
    <form class="search" role="search">
      <input type="search" aria-label="Search the log" autocomplete="off" spellcheck="false">
      <button type="button" data-role="search-previous" aria-label="Previous match">↑</button>
      <button type="button" data-role="search-next" aria-label="Next match">↓</button>
      <output aria-live="polite"></output>
    </form>
    <button type="button" data-role="follow" aria-pressed="true" title="Keep the newest line in view">Follow</button>
    <span class="count" data-role="count"></span>
  </div>
  <div class="log-frame">
    <div class="log" data-role="log" tabindex="0" role="region" aria-label="Build output"></div>
    <button type="button" class="jump-latest" data-role="jump-latest" hidden>↓ Jump to latest</button>
  </div>
</div>`;

export class BuildLogElement extends HTMLElement {
  static observedAttributes = ['server', 'build', 'project', 'token', 'follow', 'timestamps', 'height'];

  constructor() {
    super();
    this.tokenValue = null;
    /** The Build shown, as its last event or answer had it. */
    this.build = null;
    this.controller = null;
    this.buildController = null;
    this.root = this.attachShadow({ mode: 'open' });
    this.root.innerHTML = `<link rel="stylesheet" href="${MODULE_ORIGIN}/log-view.css"><style>${ELEMENT_CSS}</style>${TEMPLATE}`;
    this.styled = new Promise((resolve) => {
      const link = this.root.querySelector('link');
      link.addEventListener('load', resolve, { once: true });
      link.addEventListener('error', resolve, { once: true });
    });
    this.view = null;
    // A token set on the element before this class was defined is an own property that would
    // hide the accessor below: take it over.
    if (Object.hasOwn(this, 'token')) {
      const token = this.token;
      delete this.token;
      this.tokenValue = token;
    }
  }

  /** The token (AUTH_TOKEN), also settable as a property so that it never shows in the DOM. */
  get token() {
    return this.tokenValue ?? this.getAttribute('token');
  }

  set token(value) {
    this.tokenValue = value;
    if (this.isConnected) this.restart();
  }

  connectedCallback() {
    this.applyHeight();
    void this.setUp().then(() => this.restart());
    this.clock = setInterval(() => this.tick(), 1000);
  }

  disconnectedCallback() {
    clearInterval(this.clock);
    this.controller?.abort();
    this.controller = null;
  }

  attributeChangedCallback(name, oldValue, newValue) {
    if (oldValue === newValue || !this.view) return;
    if (name === 'timestamps') this.view.logView.setShowTime(this.hasAttribute('timestamps'));
    else if (name === 'follow') this.applyFollow();
    else if (name === 'height') this.applyHeight();
    else if (this.isConnected) this.restart();
  }

  /** Cancels the build shown; resolves with the build, or rejects with the server's error. */
  async cancel() {
    if (!this.build) throw new Error('no build is shown');
    const { build } = await this.client().cancelBuild(this.build.id);
    this.showBuild(build);
    return build;
  }

  /** An element of the shadow root by its data-role. */
  byRole(role) {
    return this.root.querySelector(`[data-role="${role}"]`);
  }

  // ---- the log view: the page's own parts, once the page's stylesheet is in ----

  async setUp() {
    if (this.view) return;
    await this.styled;
    if (this.view) return;
    const log = new BuildLog();
    const search = new LogSearch();
    const viewport = this.byRole('log');
    const followButton = this.byRole('follow');
    const jumpLatest = this.byRole('jump-latest');
    const logView = new LogView(viewport, {
      log,
      search,
      onBeforeRender: () => {
        const { wasCleared, lineIndexes } = log.takeChanges();
        if (wasCleared) search.clearLines();
        if (lineIndexes.length > 0) search.update(log.lines, lineIndexes);
        searchBox.renderCount();
      },
      onRender: () => {
        const count = log.lines.length;
        const text = `${count.toLocaleString('en')} line${count === 1 ? '' : 's'}`;
        if (this.byRole('count').textContent !== text) this.byRole('count').textContent = text;
        viewport.dataset.lines = String(count);
      },
      onFollowChange: (isFollowing) => {
        followButton.setAttribute('aria-pressed', String(isFollowing));
        jumpLatest.hidden = isFollowing;
      },
    });
    const searchBox = new SearchBox(this.root.querySelector('form'), {
      search,
      lines: () => log.lines,
      onMove: (lineIndex) => logView.revealLine(lineIndex),
      onChange: () => logView.refresh(),
    });
    // A line number is the page's permalink; here it must not change the host page's address.
    viewport.addEventListener('click', (event) => {
      const link = event.target.closest?.('a.line-number');
      if (!link) return;
      event.preventDefault();
      logView.setTarget(Number(link.textContent));
    });
    followButton.addEventListener('click', () => (logView.isFollowing ? logView.pauseFollowing() : logView.follow()));
    jumpLatest.addEventListener('click', () => logView.follow());
    this.byRole('cancel').addEventListener('click', () => this.cancel().catch((error) => this.showMessage(`Could not cancel: ${error.message}`)));
    this.view = { log, search, logView };
    logView.setShowTime(this.hasAttribute('timestamps'));
    this.applyFollow();
  }

  applyFollow() {
    if (this.getAttribute('follow') === 'false') this.view?.logView.pauseFollowing();
    else this.view?.logView.follow();
  }

  applyHeight() {
    const height = this.getAttribute('height');
    const frame = this.root.querySelector('.frame');
    frame.style.height = height === null ? '' : /^\d+$/.test(height) ? `${height}px` : height;
  }

  // ---- following ----

  client() {
    return createBuildLogClient({ server: this.getAttribute('server') || MODULE_ORIGIN, token: this.token ?? undefined });
  }

  /** Starts over with the current attributes: one build, or a project's latest builds. */
  restart() {
    if (!this.view) return;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    this.showMessage('');
    const buildId = this.getAttribute('build');
    const project = this.getAttribute('project');
    const task = buildId ? this.followBuild(buildId, controller.signal) : project ? this.followProject(project, controller.signal) : null;
    if (!task) {
      this.showMessage('Set the build (or project) attribute to show a build.');
      return;
    }
    task.catch((error) => {
      if (!controller.signal.aborted) this.showError(error);
    });
  }

  /** Shows one build from its first line to its end. */
  async followBuild(id, signal) {
    const client = this.client();
    const { log, search, logView } = this.view;
    log.clear();
    search.clearLines();
    logView.showBuild(id);
    this.build = null;
    this.showBuild(await client.getBuild(id, { signal }));
    this.applyFollow();
    await client.follow({
      build: id,
      signal,
      onEvent: (event) => {
        if (event.name === 'log') {
          log.append(event.data);
          logView.refresh();
          return;
        }
        this.showBuild(event.data.build);
        if (event.name === 'end') this.dispatchEvent(new CustomEvent('build-log:end', { detail: event.data.build, bubbles: true, composed: true }));
      },
      onStatus: (status) => {
        if (status.state === 'retrying') this.showMessage(`Reconnecting (${status.reason})…`);
        if (status.state === 'open') this.showMessage('');
      },
    });
  }

  /** Shows a project's latest build, and the next one as soon as it is queued. */
  async followProject(project, signal) {
    const client = this.client();
    const isOfProject = (build) => build.projectPath === project || projectName(build.projectPath) === project;
    let current = null;
    const showLatest = (build) => {
      if (current && (current.id === build.id || build.createdAt < current.createdAt)) return;
      current = build;
      this.showMessage('');
      this.buildController?.abort();
      this.buildController = new AbortController();
      const buildSignal = AbortSignal.any([signal, this.buildController.signal]);
      this.followBuild(build.id, buildSignal).catch((error) => {
        if (!buildSignal.aborted) this.showError(error);
      });
    };
    // The global stream first, so that a build started while the list is read is not missed.
    const watching = client.follow({
      signal,
      onEvent: (event) => {
        if (event.name === 'build' && isOfProject(event.data.build)) showLatest(event.data.build);
      },
    });
    const latest = (await client.listBuilds({ limit: PROJECT_LOOKUP_LIMIT, signal })).find(isOfProject);
    if (latest) showLatest(latest);
    else if (!current) this.showMessage(`No build of ${project} yet; its next one shows here when it starts.`);
    await watching;
  }

  showBuild(build) {
    const known = this.build;
    // Events and answers can cross: never go back to an earlier state of the same build.
    if (known && known.id === build.id && isFinished(known.status) && !isFinished(build.status)) return;
    this.build = build;
    if (!this.view) return;
    this.view.logView.setSteps(build.steps);
    this.byRole('title').textContent = `${projectName(build.projectPath)} · build ${build.id}`;
    const badge = this.byRole('badge');
    badge.hidden = false;
    badge.className = `badge status-${build.status}`;
    badge.textContent = statusLabel(build.status);
    this.byRole('cancel').hidden = isFinished(build.status);
    this.tick();
    this.dispatchEvent(new CustomEvent('build-log:status', { detail: build, bubbles: true, composed: true }));
  }

  /** The elapsed times, live while the build runs. */
  tick() {
    const build = this.build;
    if (!build || !this.view) return;
    this.byRole('steps').replaceChildren(
      ...build.steps.map((step) => {
        const item = document.createElement('li');
        item.className = `step status-${step.status}`;
        const took = formatDuration(elapsedMs(step.startedAt, step.finishedAt));
        item.textContent = `${step.name}: ${statusLabel(step.status)}${took ? ` (${took})` : ''}`;
        return item;
      }),
    );
    const took = formatDuration(build.durationMs ?? elapsedMs(build.startedAt, build.finishedAt));
    this.byRole('elapsed').textContent = !build.startedAt ? (build.status === 'queued' ? 'waiting in the queue' : '') : isFinished(build.status) ? `took ${took}` : `running for ${took}`;
    if (!isFinished(build.status)) this.view.logView.tickClock();
  }

  showError(error) {
    if (error instanceof BuildLogNetworkError && error.code === 'cors_refused') {
      this.showMessage(`This page (${location.origin}) may not read builds from ${new URL(this.client().server).origin}: the server must list this origin in CORS_ORIGINS (for example CORS_ORIGINS=${location.origin}).`);
      return;
    }
    if (error?.status === 401) {
      this.showMessage('The server needs its access token (AUTH_TOKEN): give it in the token attribute or property.');
      return;
    }
    if (error?.code === 'build_not_found') {
      this.showMessage(`There is no build ${this.getAttribute('build')} on this server.`);
      return;
    }
    this.showMessage(error?.message ?? String(error));
  }

  showMessage(text) {
    const message = this.byRole('message');
    message.textContent = text;
    message.hidden = !text;
  }
}

if (!customElements.get('build-log')) customElements.define('build-log', BuildLogElement);
