import { clockTime, formatDuration, elapsedMs, statusLabel } from './format.js';
import { lineToHtml } from './line-html.js';
import { formatHash } from './permalink.js';
import { VirtualList } from './virtual-list.js';

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);

/**
 * Draws a BuildLog in a VirtualList: a collapsible header per step (its command, result,
 * duration and exit code) followed by its lines, each with a line-number permalink, an
 * optional time and the text in colour. It also marks the permalink target and the search
 * matches, and moves to lines on request.
 */
export class LogView {
  constructor(viewport, { log, search, onFollowChange, onBeforeRender, onRender }) {
    this.viewport = viewport;
    this.log = log;
    this.search = search;
    this.buildId = null;
    this.steps = new Map();
    this.collapsed = new Set();
    this.targetLine = null;
    this.pendingTarget = null;
    this.tick = 0;
    this.onBeforeRender = onBeforeRender;
    this.list = new VirtualList(viewport, this, { onFollowChange, onRender: () => onRender?.() });
    viewport.addEventListener('click', (event) => {
      const toggle = event.target.closest('[data-toggle-step]');
      if (toggle) this.toggleSection(toggle.dataset.toggleStep);
    });
  }

  /** A new build: forget the old one's rows, target and collapsed sections. */
  showBuild(buildId) {
    this.buildId = buildId;
    this.steps = new Map();
    this.collapsed = new Set();
    this.targetLine = null;
    this.pendingTarget = null;
    this.list.clear();
  }

  /** The log was cleared (a reset): draw everything again. */
  logCleared() {
    this.list.clear();
    if (this.targetLine) this.pendingTarget = this.targetLine;
  }

  /** The build's steps, for the section headers. */
  setSteps(steps) {
    this.steps = new Map(steps.map((step) => [step.name, step]));
    for (const step of steps) if (step.status !== 'pending') this.log.ensureSection(step.name);
    this.list.refresh();
  }

  /** Called every second while something runs, for live durations. */
  tickClock() {
    this.tick += 1;
    this.list.refresh();
  }

  setShowTime(isShown) {
    this.viewport.classList.toggle('show-time', isShown);
  }

  /** Highlights line `number` (null: none) and scrolls to it once it exists. */
  setTarget(number) {
    this.targetLine = number;
    this.pendingTarget = number;
    this.list.refresh();
  }

  /**
   * Expands the line's section and, unless the line is in view already, scrolls it into the
   * middle of the view. Either way following stops, so the line stays where the reader sees it.
   */
  revealLine(index) {
    const line = this.log.lines[index];
    if (!line) return;
    this.collapsed.delete(line.step ?? '');
    const row = this.rowOfLine(line);
    if (!this.list.isRowVisible(row)) {
      this.list.scrollToRow(row);
      return;
    }
    this.list.setFollowing(false);
    this.list.refresh();
  }

  toggleSection(step) {
    if (this.collapsed.has(step)) this.collapsed.delete(step);
    else this.collapsed.add(step);
    this.list.refresh();
  }

  follow() {
    this.list.follow();
  }

  pauseFollowing() {
    this.list.setFollowing(false);
  }

  get isFollowing() {
    return this.list.isFollowing;
  }

  /** Lines changed: redraw in the next frame. */
  refresh() {
    this.list.refresh();
  }

  /** First in each frame: the owner takes the log's changes, then a pending target is shown. */
  beforeRender() {
    this.onBeforeRender?.();
    if (this.pendingTarget === null) return;
    const index = this.pendingTarget - 1;
    if (index >= this.log.lines.length) {
      this.list.setFollowing(false); // wait at the top for the line instead of following the end
      return;
    }
    this.pendingTarget = null;
    this.revealLine(index);
  }

  // ---- the VirtualList source ----

  count() {
    let rows = 0;
    for (const section of this.log.sections) {
      if (section.step !== null) rows += 1;
      if (!this.collapsed.has(section.step ?? '')) rows += section.lines.length;
    }
    const digits = String(this.log.lines.length).length;
    if (digits !== this.digits) {
      this.digits = digits;
      this.viewport.style.setProperty('--line-number-chars', String(Math.max(3, digits)));
    }
    return rows;
  }

  /** Row i as {section} (a header) or {line}. */
  rowAt(index) {
    let at = 0;
    for (const section of this.log.sections) {
      if (section.step !== null) {
        if (index === at) return { section };
        at += 1;
      }
      if (this.collapsed.has(section.step ?? '')) continue;
      if (index < at + section.lines.length) return { line: section.lines[index - at] };
      at += section.lines.length;
    }
    return {};
  }

  rowOfLine(line) {
    let at = 0;
    for (const section of this.log.sections) {
      if (section.step !== null) at += 1;
      if (section.step === line.step) return at + section.lines.indexOf(line, 0);
      if (!this.collapsed.has(section.step ?? '')) at += section.lines.length;
    }
    return 0;
  }

  key(index) {
    const { section, line } = this.rowAt(index);
    return section ? `S:${section.step}` : `L:${line?.index}`;
  }

  stamp(index) {
    const { section, line } = this.rowAt(index);
    if (section) {
      const step = this.steps.get(section.step);
      const isLive = step?.status === 'running';
      return `${this.collapsed.has(section.step)}|${section.lines.length}|${JSON.stringify(step ?? null)}|${isLive ? this.tick : ''}`;
    }
    const isTarget = line.number === this.targetLine;
    const searchStamp = this.search.count > 0 ? this.search.version : '';
    return `${line.version}|${isTarget}|${searchStamp}|${this.buildId}`;
  }

  draw(index, element) {
    const { section, line } = this.rowAt(index);
    if (section) this.drawSection(section, element);
    else if (line) this.drawLine(line, element);
  }

  drawSection(section, element) {
    const step = this.steps.get(section.step);
    const isCollapsed = this.collapsed.has(section.step);
    const status = step?.status ?? 'pending';
    const duration = step ? formatDuration(elapsedMs(step.startedAt, step.finishedAt)) : '';
    const exit = step && step.exitCode !== null ? `exit code ${step.exitCode}` : '';
    element.className = `row section status-${status}`;
    // The button keeps its element across redraws so that keyboard focus stays on it.
    let button = element.querySelector(':scope > button');
    if (!button || element.dataset.kind !== 'section') {
      element.dataset.kind = 'section';
      element.innerHTML = '<button type="button" class="section-toggle"></button><span class="section-info"></span>';
      button = element.querySelector(':scope > button');
    }
    button.dataset.toggleStep = section.step;
    button.setAttribute('aria-expanded', String(!isCollapsed));
    button.textContent = `${isCollapsed ? '▸' : '▾'} ${section.step}`;
    const info = element.querySelector('.section-info');
    info.innerHTML = [
      step ? `<code>${escapeHtml(step.command)}</code>` : '',
      `<span class="badge status-${escapeHtml(status)}">${escapeHtml(statusLabel(status))}</span>`,
      duration ? `<span class="duration">${escapeHtml(duration)}</span>` : '',
      exit ? `<span class="exit-code">${escapeHtml(exit)}</span>` : '',
      `<span class="line-count">${section.lines.length} line${section.lines.length === 1 ? '' : 's'}</span>`,
    ].join(' ');
  }

  drawLine(line, element) {
    const number = line.number;
    const isTarget = number === this.targetLine;
    const current = this.search.current;
    const isCurrentMatch = current?.line === line.index;
    element.dataset.kind = 'line';
    element.dataset.line = String(number);
    element.className = `row line stream-${line.stream}${isTarget ? ' is-target' : ''}${isCurrentMatch ? ' is-current-match' : ''}`;
    element.innerHTML =
      `<a class="line-number" href="${formatHash(this.buildId, number)}" aria-label="Line ${number}">${number}</a>` +
      `<span class="time">${escapeHtml(clockTime(line.time))}</span>` +
      `<span class="text">${lineToHtml(line.ansi)}</span>`;
    const starts = this.search.matchesIn(line.index, this.log.lines);
    if (starts.length > 0) markMatches(element.lastElementChild, starts, this.search.needle.length, isCurrentMatch ? current.k : -1);
  }
}

/** Wraps the text ranges [start, start + length) of an element's text in <mark>, across colour spans. */
export function markMatches(container, starts, length, currentIndex) {
  const nodes = [];
  const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  let offset = 0;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    nodes.push({ node, from: offset });
    offset += node.data.length;
  }
  // From the last match back, so that splitting a text node leaves earlier offsets valid.
  for (let m = starts.length - 1; m >= 0; m -= 1) {
    const start = starts[m];
    const end = start + length;
    for (let n = nodes.length - 1; n >= 0; n -= 1) {
      const { node, from } = nodes[n];
      const to = from + node.data.length;
      if (to <= start || from >= end) continue;
      const range = document.createRange();
      range.setStart(node, Math.max(0, start - from));
      range.setEnd(node, Math.min(node.data.length, end - from));
      const mark = document.createElement('mark');
      if (m === currentIndex) mark.className = 'is-current';
      range.surroundContents(mark);
    }
  }
}
