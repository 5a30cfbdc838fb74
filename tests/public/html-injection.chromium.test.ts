import fs from 'node:fs';
import { startBuild, waitForEnd } from '../helpers/http.js';
import { type PageWindow, saveScreenshot } from '../helpers/browser/browser.js';
import { drawnLines, scrollLogTo, waitForLine, waitForStatus } from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

const HOSTILE_LINE = '<img src=x onerror="window.__injected = 1"> <script>window.__injected = 2</script> &amp; <b>not bold</b>';
const HOSTILE_PROJECT = '<img src=x onerror=window.__injected=3>';

describe('output that looks like HTML', () => {
  const session = usePageSession({
    prepareProjects: (projects) => fs.cpSync(projects.project('failing'), projects.project(HOSTILE_PROJECT), { recursive: true }),
    context: 'per-suite',
    page: 'server',
  });

  it('shows a log line with tags as text, running nothing', async () => {
    const { page, errors, server } = session;
    const build = await startBuild(server.url, 'terminal');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForStatus(page, 'succeeded');
    await scrollLogTo(page, 0);
    await waitForLine(page, 'not bold');
    const line = (await drawnLines(page)).find((l) => l.text.includes('not bold'));
    expect(line?.text).toBe(HOSTILE_LINE);
    await expect(page.locator('#log img, #log script, #log b').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (globalThis as PageWindow).__injected)).resolves.toBeUndefined();
    await saveScreenshot(page, 'html-injection-log');
    expect(errors).toEqual([]);
  });

  it('shows a project folder named like a tag as text in the list and the history', async () => {
    const { page, errors, server } = session;
    const build = await startBuild(server.url, HOSTILE_PROJECT);
    await waitForEnd(server.url, build.id);
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForStatus(page, 'failed');
    await expect(page.locator('#project-select option', { hasText: HOSTILE_PROJECT }).count()).resolves.toBe(1);
    await expect(page.locator(`#history-list a[data-build="${build.id}"] .name`).textContent()).resolves.toBe(HOSTILE_PROJECT);
    await expect(page.locator('#build-title').textContent()).resolves.toContain(HOSTILE_PROJECT);
    await expect(page.locator('body img').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (globalThis as PageWindow).__injected)).resolves.toBeUndefined();
    await saveScreenshot(page, 'html-injection-project');
    expect(errors).toEqual([]);
  });
});
