import type { Page } from 'playwright-core';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { saveScreenshot } from '../helpers/browser/browser.js';
import { readWholeLog, waitForConnection, waitForLine, waitForStatus, waitForText } from '../helpers/browser/log-page.js';
import { openStreams } from '../helpers/browser/page-server.js';
import { usePageSession } from '../helpers/browser/page-session.js';

/**
 * The lines of a build's log as the server keeps them (GET /api/builds/:id/log), without times,
 * marks and yarn's escape codes (these logs have no \r and no cursor moves within a line).
 */
async function serverLines(baseUrl: string, id: string): Promise<string[]> {
  const { text } = await request(`${baseUrl}/api/builds/${id}/log`);
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => line.replace(/^\[[^\]]+\] (\[(stderr|system)\] )?/, '').replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
}

describe('tabs sharing streams', () => {
  // No page of its own: each test opens its tabs with session.openTab, and every tab's errors are checked.
  const session = usePageSession({ context: 'per-test', page: 'none' });

  it('holds one connection per stream for two tabs, both showing the whole log', async () => {
    const { projects, server } = session;
    projects.configure('slow', { seconds: 4 });
    const build = await startBuild(server.url, 'slow');
    const url = `${server.url}/#build=${build.id}`;
    const first = await session.openTab(url);
    await waitForLine(first, 'tick 5');
    const second = await session.openTab(url);
    await waitForLine(second, 'tick 8');
    await expect(first.locator('#connection').textContent()).resolves.not.toContain('through another tab');
    await expect(second.locator('[data-role="connection-text"]').textContent()).resolves.toBe('Connected (through another tab)');
    // Two tabs, two streams (every build's status, and this build's log): one connection each, not one per tab.
    await expect(openStreams(server.url)).resolves.toBe(2);
    await saveScreenshot(second, 'two-tabs-second');

    await waitForEnd(server.url, build.id);
    await waitForStatus(first, 'succeeded');
    await waitForStatus(second, 'succeeded');
    // The build's stream ends with the build: the two tabs now share one connection.
    await waitFor(async () => (await openStreams(server.url)) === 1, 'one open stream');
    const expected = await serverLines(server.url, build.id);
    expect((await readWholeLog(first)).map((line) => line.text)).toEqual(expected);
    expect((await readWholeLog(second)).map((line) => line.text)).toEqual(expected);
    await saveScreenshot(first, 'two-tabs-first');
  });

  it('hands the streams to another tab when the leading tab closes, resuming with no duplicate line', async () => {
    const { projects, server } = session;
    projects.configure('slow', { seconds: 5 });
    const build = await startBuild(server.url, 'slow');
    const url = `${server.url}/#build=${build.id}`;
    const leader = await session.openTab(url);
    await waitForLine(leader, 'tick 3');
    const follower = await session.openTab(url);
    const streamUrls: string[] = [];
    follower.on('request', (r) => {
      if (r.url().includes('/api/log/push')) streamUrls.push(r.url());
    });
    await waitForLine(follower, 'tick 6');
    await waitForConnection(follower, 'connected');
    await expect(follower.locator('[data-role="connection-text"]').textContent()).resolves.toContain('through another tab');

    await leader.close();
    // The follower takes the lock and opens the streams itself, from the last ids it saw.
    await waitForText(follower, '[data-role="connection-text"]', 'Connected');
    expect(streamUrls).toEqual(
      expect.arrayContaining([expect.stringMatching(new RegExp(`/api/log/push\\?build=${build.id}&lastEventId=[0-9A-Za-z_-]+$`))]),
    );
    await waitForStatus(follower, 'succeeded');
    await waitFor(async () => (await openStreams(server.url)) === 1, 'one open stream');
    const lines = (await readWholeLog(follower)).map((line) => line.text);
    expect(lines).toEqual(await serverLines(server.url, build.id));
    expect(lines.filter((line) => line.startsWith('tick '))).toEqual(Array.from({ length: 50 }, (_, i) => `tick ${i + 1}`));
    await saveScreenshot(follower, 'handover');
  });

  it('keeps a seventh tab working: it shares the streams and its requests do not wait for a free connection', async () => {
    const { projects, server } = session;
    projects.configure('slow', { seconds: 3 });
    const build = await startBuild(server.url, 'slow');
    const url = `${server.url}/#build=${build.id}`;
    const tabs: Page[] = [];
    for (let i = 0; i < 7; i += 1) tabs.push(await session.openTab(url));
    const seventh = tabs[6]!;
    await waitForLine(seventh, 'tick 1');
    await seventh.locator('#project-select option', { hasText: 'failing' }).waitFor({ state: 'attached' });
    await seventh.locator(`#history-list a[data-build="${build.id}"]`).waitFor();
    await expect(openStreams(server.url)).resolves.toBeLessThanOrEqual(2);
    // It can start a build and follow it, while six other tabs are open.
    await seventh.getByLabel('Project').selectOption({ label: 'failing' });
    await seventh.getByRole('button', { name: 'Build', exact: true }).click();
    await waitForStatus(seventh, 'failed');
    await waitForLine(seventh, 'error: this build fails on purpose');
    for (const tab of tabs.slice(0, 6)) await waitForStatus(tab, 'succeeded');
    await saveScreenshot(seventh, 'seventh-tab');
  });
});
