import type { Page } from 'playwright-core';
import type { PageWindow } from './browser.js';

/** A log row as the page draws it. */
export interface DrawnLine {
  readonly number: number;
  readonly text: string;
  readonly stream: string;
  readonly isTarget: boolean;
}

/** The log rows in the DOM now (the virtual list keeps only those near the view). */
export function drawnLines(page: Page): Promise<DrawnLine[]> {
  return page.$$eval('#log .row.line', (rows) =>
    rows
      .map((row) => ({
        number: Number(row.dataset.line),
        text: row.querySelector('.text')?.textContent ?? '',
        stream: /stream-(\w+)/.exec(row.className)?.[1] ?? '',
        isTarget: row.classList.contains('is-target'),
      }))
      .sort((a, b) => a.number - b.number),
  );
}

/**
 * Every line of the log, read by scrolling the viewport from top to bottom like a reader
 * would, one screen at a time.
 */
export async function readWholeLog(page: Page): Promise<DrawnLine[]> {
  const byNumber = new Map<number, DrawnLine>();
  await scrollLogTo(page, 0);
  for (;;) {
    await nextFrames(page);
    for (const line of await drawnLines(page)) byNumber.set(line.number, line);
    const isAtEnd = await page.evaluate(() => {
      const log = (globalThis as PageWindow).document.querySelector('#log');
      if (log.scrollTop + log.clientHeight >= log.scrollHeight - 1) return true;
      log.scrollTop += log.clientHeight;
      return false;
    });
    if (isAtEnd) break;
  }
  return [...byNumber.values()].sort((a, b) => a.number - b.number);
}

/** Scrolls the log viewport to `top` pixels, as a reader dragging the scroll bar would. */
export async function scrollLogTo(page: Page, top: number): Promise<void> {
  await page.evaluate((to) => {
    (globalThis as PageWindow).document.querySelector('#log').scrollTop = to;
  }, top);
}

/** Where the log viewport is scrolled to, in pixels. */
export function logScrollTop(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as PageWindow).document.querySelector('#log').scrollTop as number);
}

/**
 * Whether the log's viewport shows its end, read in one task: lines keep arriving while a build
 * runs, so "the newest line" fetched in one call may be off screen by the next.
 */
export function isLogAtEnd(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const log = (globalThis as PageWindow).document.querySelector('#log');
    return log.scrollTop + log.clientHeight >= log.scrollHeight - 1;
  });
}

/** Whether the row of line `number` is drawn entirely inside the log's viewport. */
export function isLineInView(page: Page, number: number): Promise<boolean> {
  return page.evaluate((n) => {
    const { document } = globalThis as PageWindow;
    const row = document.querySelector(`#log .row.line[data-line="${n}"]`);
    if (!row) return false;
    const box = row.getBoundingClientRect();
    const view = document.querySelector('#log').getBoundingClientRect();
    return box.top >= view.top && box.bottom <= view.bottom;
  }, number);
}

/** Waits until the page has drawn two more frames (the log draws once per frame). */
export function nextFrames(page: Page): Promise<void> {
  return page.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const { requestAnimationFrame } = globalThis as PageWindow;
        requestAnimationFrame(() => requestAnimationFrame(() => resolve()));
      }),
  );
}

/** Waits until the element at `selector` has exactly the text `text`. */
export async function waitForText(page: Page, selector: string, text: string, timeoutMs = 20000): Promise<void> {
  await page.waitForFunction(
    ([where, wanted]) => (globalThis as PageWindow).document.querySelector(where)?.textContent === wanted,
    [selector, text] as const,
    { timeout: timeoutMs },
  );
}

/** Waits for a drawn log line whose text contains `text`. */
export async function waitForLine(page: Page, text: string, timeoutMs = 20000): Promise<void> {
  await page.waitForFunction(
    (wanted) => {
      const texts = (globalThis as PageWindow).document.querySelectorAll('#log .row.line .text');
      return Array.from(texts as ArrayLike<{ textContent: string }>).some((element) => element.textContent.includes(wanted));
    },
    text,
    { timeout: timeoutMs },
  );
}

/** Waits for the selected build's status badge to say `status`. */
export function waitForStatus(page: Page, status: string, timeoutMs = 30000): Promise<void> {
  return waitForText(page, '#build-badge', status, timeoutMs);
}

/** Waits for the connection line to be in `state` (its data-state). */
export async function waitForConnection(page: Page, state: string, timeoutMs = 20000): Promise<void> {
  await page.waitForFunction((wanted) => (globalThis as PageWindow).document.querySelector('#connection').dataset.state === wanted, state, {
    timeout: timeoutMs,
  });
}

/** The number of lines the page holds for the selected build. */
export async function lineCount(page: Page): Promise<number> {
  return Number(await page.getAttribute('#log', 'data-lines'));
}

/** Waits until the page holds more than `count` lines. */
export async function waitForLineCount(page: Page, count: number, timeoutMs = 20000): Promise<void> {
  await page.waitForFunction((n) => Number((globalThis as PageWindow).document.querySelector('#log').dataset.lines) > n, count, { timeout: timeoutMs });
}

/** The page's address fragment. */
export function locationHash(page: Page): Promise<string> {
  return page.evaluate(() => (globalThis as PageWindow).location.hash as string);
}

/** The build id in the page's address (#build=<id>). */
export async function shownBuildId(page: Page): Promise<string> {
  const match = /build=([0-9a-z]+)/.exec(await locationHash(page));
  if (!match) throw new Error('the address names no build');
  return match[1]!;
}

/** The computed colour and weight of the first log text span containing `text`. */
export function spanStyle(page: Page, text: string): Promise<string> {
  return page
    .locator('#log .text span', { hasText: text })
    .first()
    .evaluate((span) => {
      const style = (globalThis as PageWindow).getComputedStyle(span);
      return `${style.color} ${style.fontWeight}`;
    });
}
