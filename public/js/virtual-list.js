import { onNextFrame } from './frame.js';

/** Rows drawn beyond each edge of the viewport, so that scrolling shows no blank rows. */
const OVERSCAN_ROWS = 20;
/** Elements kept for reuse when rows leave the viewport. */
const SPARE_ROWS = 100;

/**
 * A scrolling list of fixed-height rows that keeps only the rows in view in the DOM, so a log
 * of any length costs the same few hundred elements. The source describes the rows:
 * `count()`, `key(i)` (stable across changes), `stamp(i)` (changes when row i must be drawn
 * again), `draw(i, element)` and optionally `beforeRender()`, called first in each frame.
 *
 * Follow mode: while the viewport is scrolled to the bottom the list sticks there as rows are
 * added; scrolling up pauses it (onFollowChange(false)), scrolling back down or follow()
 * resumes it.
 */
export class VirtualList {
  constructor(viewport, source, { onFollowChange = () => {}, onRender = () => {} } = {}) {
    this.viewport = viewport;
    this.source = source;
    this.onFollowChange = onFollowChange;
    this.onRender = onRender;
    this.canvas = document.createElement('div');
    this.canvas.className = 'vlist-canvas';
    viewport.append(this.canvas);
    /** @type {Map<string, {element: HTMLElement, stamp: string, index: number}>} */
    this.rows = new Map();
    this.spares = [];
    this.rowHeight = this.measureRowHeight();
    this.isFollowing = true;
    this.count = 0;
    this.renderTask = () => this.render();
    viewport.addEventListener('scroll', () => this.onScroll(), { passive: true });
    new ResizeObserver(() => this.refresh()).observe(viewport);
  }

  /** Asks for a render in the next frame. */
  refresh() {
    onNextFrame(this.renderTask);
  }

  /** Drops every drawn row (the source changed completely). */
  clear() {
    for (const row of this.rows.values()) row.element.remove();
    this.rows.clear();
    this.setFollowing(true);
    this.refresh();
  }

  follow() {
    this.setFollowing(true);
    this.refresh();
  }

  /** Scrolls so that row i is in the middle of the viewport, and pauses following. */
  scrollToRow(index) {
    this.setFollowing(false);
    this.updateHeight();
    const top = index * this.rowHeight - (this.viewport.clientHeight - this.rowHeight) / 2;
    this.viewport.scrollTop = Math.max(0, top);
    this.refresh();
  }

  /** Whether row i is entirely in view. */
  isRowVisible(index) {
    const top = index * this.rowHeight;
    return top >= this.viewport.scrollTop && top + this.rowHeight <= this.viewport.scrollTop + this.viewport.clientHeight;
  }

  render() {
    this.source.beforeRender?.();
    this.updateHeight();
    if (this.isFollowing) this.viewport.scrollTop = this.viewport.scrollHeight;
    const { scrollTop, clientHeight } = this.viewport;
    const first = Math.max(0, Math.floor(scrollTop / this.rowHeight) - OVERSCAN_ROWS);
    const last = Math.min(this.count - 1, Math.ceil((scrollTop + clientHeight) / this.rowHeight) + OVERSCAN_ROWS);
    const drawn = new Map();
    for (let i = first; i <= last; i += 1) {
      const key = this.source.key(i);
      const stamp = this.source.stamp(i);
      let row = this.rows.get(key);
      if (!row) {
        row = { element: this.spares.pop() ?? document.createElement('div'), stamp: null, index: -1 };
        this.canvas.append(row.element);
      }
      if (row.stamp !== stamp) {
        this.source.draw(i, row.element);
        row.stamp = stamp;
      }
      if (row.index !== i) {
        row.element.style.transform = `translateY(${i * this.rowHeight}px)`;
        row.index = i;
      }
      this.rows.delete(key);
      drawn.set(key, row);
    }
    for (const row of this.rows.values()) {
      row.element.remove();
      if (this.spares.length < SPARE_ROWS) this.spares.push(row.element);
    }
    this.rows = drawn;
    this.onRender();
  }

  updateHeight() {
    const count = this.source.count();
    if (count === this.count) return;
    this.count = count;
    this.canvas.style.height = `${count * this.rowHeight}px`;
  }

  onScroll() {
    const { scrollTop, clientHeight, scrollHeight } = this.viewport;
    this.setFollowing(scrollTop + clientHeight >= scrollHeight - this.rowHeight * 1.5);
    this.refresh();
  }

  setFollowing(isFollowing) {
    if (isFollowing === this.isFollowing) return;
    this.isFollowing = isFollowing;
    this.onFollowChange(isFollowing);
  }

  /** The height of a row as the style sheet makes it (`.row`), in whole pixels. */
  measureRowHeight() {
    const probe = document.createElement('div');
    probe.className = 'row';
    probe.textContent = 'x';
    this.canvas.append(probe);
    const height = Math.round(probe.getBoundingClientRect().height) || 20;
    probe.remove();
    return height;
  }
}
