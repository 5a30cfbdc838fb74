import type { Page, Request } from 'playwright-core';
import { request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTcpRelay } from '../helpers/tcp-relay.js';
import { saveScreenshot } from '../helpers/browser/browser.js';
import { readWholeLog, waitForConnection, waitForLine, waitForStatus, waitForText } from '../helpers/browser/log-page.js';
import { openStreams, startPageServer } from '../helpers/browser/page-server.js';
import { usePageSession } from '../helpers/browser/page-session.js';

/** The `tick N` numbers a page shows, in order. */
async function ticks(page: Page): Promise<number[]> {
  return (await readWholeLog(page)).filter((line) => line.text.startsWith('tick ')).map((line) => Number(line.text.slice(5)));
}

const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('the page across connection trouble', () => {
  // No shared server: each test starts its own, configured for the trouble it makes, and stops or restarts it.
  const session = usePageSession({ startsServer: false, context: 'per-test', page: 'about:blank' });

  it('resumes after dropped connections and a server restart with no duplicate line', async () => {
    const { page, projects } = session;
    let server = await startPageServer(projects);
    // The page talks to a port that stays put: the new server cannot start on the old one's
    // port without racing any process of the machine that takes it once it is free.
    const relay = await startTcpRelay(server.port);
    try {
      projects.configure('slow', { seconds: 30 });
      const build = await startBuild(server.url, 'slow');
      const streamRequests: Request[] = [];
      page.on('request', (r) => {
        if (r.url().includes(`/api/log/push?build=${build.id}`)) streamRequests.push(r);
      });
      await page.goto(`${relay.url}/#build=${build.id}`);
      await waitForLine(page, 'tick 5');
      await waitForConnection(page, 'connected');

      // 1. The network drops every connection: EventSource comes back by itself with Last-Event-ID.
      server.httpServer.closeAllConnections();
      await waitForLine(page, 'tick 12');
      const resumed = streamRequests.at(-1)!;
      expect(streamRequests.length).toBeGreaterThanOrEqual(2);
      expect((await resumed.allHeaders())['last-event-id']).toMatch(/^[0-9A-Za-z_-]+$/);

      // 2. The next reconnect is answered with `reset` and the whole build so far, as the server
      //    does for an id it cannot read: the page must start over, not show lines twice. (The
      //    answer is the server's own, fetched with an unreadable Last-Event-ID.)
      let resets = 0;
      let isAnswered = false;
      await page.route(`**/api/log/push?build=${build.id}*`, async (route) => {
        if (isAnswered) return route.continue();
        isAnswered = true;
        const reader = new SseReader(route.request().url(), { 'Last-Event-ID': 'not-an-id' });
        await reader.waitFor((r) => r.named('log').length > 20, 'the replay');
        reader.close();
        resets += reader.named('reset').length;
        const body = reader.events.map((e) => `id: ${e.id}\nevent: ${e.event}\ndata: ${e.data}\n\n`).join('');
        return route.fulfill({ status: 200, contentType: 'text/event-stream', body: `retry: 300\n\n${body}` });
      });
      server.httpServer.closeAllConnections();
      await waitForLine(page, 'tick 20');
      await page.unroute(`**/api/log/push?build=${build.id}*`);
      expect(resets).toBe(1);
      const shown = await ticks(page);
      expect(shown).toEqual(oneTo(shown.length));

      // 3. The server restarts: the running build ends `interrupted`, the page reconnects by itself.
      relay.forwardTo(null);
      await server.stop();
      await waitForStatus(page, 'interrupted');
      await waitForConnection(page, 'reconnecting');
      await saveScreenshot(page, 'server-down');
      server = await startPageServer(projects, { DATA_DIR: server.dataDir });
      relay.forwardTo(server.port);
      await waitForConnection(page, 'connected');
      const lines = await readWholeLog(page);
      const shownTicks = await ticks(page);
      expect(shownTicks).toEqual(oneTo(shownTicks.length));
      expect(lines.filter((line) => line.text.startsWith('Build interrupted'))).toHaveLength(1);
      expect(lines.map((line) => line.number)).toEqual(oneTo(lines.length));

      // The global stream is live again on the new server: a new build shows up in the list.
      const next = await startBuild(server.url, 'failing');
      await page.locator(`#history-list a[data-build="${next.id}"]`).waitFor();
      await waitForEnd(server.url, next.id);
      await saveScreenshot(page, 'after-restart');

      // And a reload replays the interrupted build from the new server's disk, the same lines.
      await page.reload();
      await waitForStatus(page, 'interrupted');
      expect((await readWholeLog(page)).map((line) => line.text)).toEqual(lines.map((line) => line.text));
    } finally {
      await relay.close();
      await server.stop();
    }
  }, 60000);

  it('says the server is full on a 503 and connects by itself after Retry-After', async () => {
    const { page, projects } = session;
    const server = await startPageServer(projects, { MAX_CLIENTS: '2' });
    const holders = [new SseReader(`${server.url}/api/log/push`), new SseReader(`${server.url}/api/log/push`)];
    try {
      await Promise.all(holders.map((holder) => holder.connected));
      expect((await request(`${server.url}/api/log/push`)).status).toBe(503);
      await page.goto(server.url);
      await waitForConnection(page, 'server-full');
      await expect(page.locator('#connection').textContent()).resolves.toMatch(/Server full: retrying by itself in \d s/);
      await saveScreenshot(page, 'server-full');

      holders[0]!.close();
      await waitForConnection(page, 'connected', 15000);
      expect(await openStreams(server.url)).toBe(2);
      const build = await startBuild(server.url, 'failing');
      await page.locator(`#history-list a[data-build="${build.id}"]`).waitFor();
      await waitForBuild(server.url, build.id, (b) => b.status === 'failed');
      await waitForText(page, `#history-list a[data-build="${build.id}"] .badge`, 'failed');
      await saveScreenshot(page, 'server-full-recovered');
    } finally {
      for (const holder of holders) holder.close();
      await server.stop();
    }
  }, 60000);
});
