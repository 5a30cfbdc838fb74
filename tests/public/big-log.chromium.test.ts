import type { Page } from 'playwright-core';
import { type PageWindow, saveScreenshot } from '../helpers/browser/browser.js';
import { drawnLines, shownBuildId, waitForLine, waitForStatus, waitForText } from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

const LINES = 100_000;
/** The page keeps only the rows near the view: its whole DOM stays this small whatever the log. */
const MAX_DOM_NODES = 1500;

/** Resolves when the page holds every line, the build is over and the last line is drawn. */
async function waitForWholeLog(page: Page): Promise<void> {
  await waitForStatus(page, 'succeeded', 180000);
  await waitForLine(page, `line ${String(LINES).padStart(6, '0')} `, 180000);
}

/** Starts recording long tasks (main-thread work over 50 ms) in the page. */
function recordLongTasks(page: Page): Promise<void> {
  return page.evaluate(() => {
    const win = globalThis as PageWindow;
    win.longTasks = [];
    new win.PerformanceObserver((list: PageWindow) => {
      for (const entry of list.getEntries()) win.longTasks.push(entry.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
}

/** The page's element count and the long tasks it recorded. */
function measure(page: Page): Promise<{ domNodes: number; longestTaskMs: number; longTasks: number }> {
  return page.evaluate(() => {
    const { document, longTasks = [] } = globalThis as PageWindow;
    return { domNodes: document.getElementsByTagName('*').length, longestTaskMs: Math.round(Math.max(0, ...longTasks)), longTasks: longTasks.length };
  });
}

describe('a 100,000-line log', () => {
  // One page for both tests: the second reloads the build the first one streamed.
  const session = usePageSession({
    prepareProjects: (projects) => projects.configure('lines', { count: LINES, width: 100, batch: 1000 }),
    context: 'per-suite',
    page: 'server',
  });
  let buildId: string;

  it('streams live into a bounded DOM', async () => {
    const { page, errors } = session;
    await recordLongTasks(page);
    await page.getByLabel('Project').selectOption({ label: 'lines' });
    const startedAt = await page.evaluate(() => performance.now());
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await waitForWholeLog(page);
    const renderMs = Math.round((await page.evaluate(() => performance.now())) - startedAt);
    buildId = await shownBuildId(page);
    const numbers = await page.locator('#log').getAttribute('data-lines');
    const { domNodes, longestTaskMs, longTasks } = await measure(page);
    console.log(`100,000-line log, live: ${renderMs} ms from Build to the last line drawn; ${domNodes} DOM nodes; ${numbers} lines held; longest task ${longestTaskMs} ms (${longTasks} tasks over 50 ms)`);
    await saveScreenshot(page, 'big-log-live');
    expect(domNodes).toBeLessThan(MAX_DOM_NODES);
    expect(errors).toEqual([]);
  }, 240000);

  it('replays whole after a reload into the same bounded DOM, and opens a line in its middle', async () => {
    const { page, errors, server } = session;
    await page.reload();
    await recordLongTasks(page);
    await waitForWholeLog(page);
    const renderMs = Math.round(await page.evaluate(() => performance.now()));
    const { domNodes, longestTaskMs, longTasks } = await measure(page);
    console.log(`100,000-line log, replay: ${renderMs} ms from navigation to the last line drawn; ${domNodes} DOM nodes; longest task ${longestTaskMs} ms (${longTasks} tasks over 50 ms)`);
    expect(domNodes).toBeLessThan(MAX_DOM_NODES);

    // Still responsive: a permalink into the middle and a search over all lines.
    await page.goto(`${server.url}/#build=${buildId}&L50000`);
    await page.locator('#log .row.line.is-target[data-line="50000"]').waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill('line 099999');
    await waitForText(page, '#search-count', '1 of 1');
    await page.locator('#log mark.is-current').waitFor();
    expect((await drawnLines(page)).some((line) => line.text.startsWith('line 099999 '))).toBe(true);
    const after = await measure(page);
    expect(after.domNodes).toBeLessThan(MAX_DOM_NODES);
    await saveScreenshot(page, 'big-log-replay-search');
    expect(errors).toEqual([]);
  }, 240000);
});
