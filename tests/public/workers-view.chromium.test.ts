import type { Page } from 'playwright-core';
import { request, startBuild, waitForBuild } from '../helpers/http.js';
import { type PageWindow, openPage, saveScreenshot } from '../helpers/browser/browser.js';
import { locationHash, waitForConnection, waitForStatus, waitForText } from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

const TOKEN = 'workers-s3cret';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const WORKER_NAME = 'page-test-worker';
const WORKER = `#workers-list li[data-worker="${WORKER_NAME}"]`;

describe('the Workers view', () => {
  // One slot, so that a second build waits in the queue with no worker yet.
  const session = usePageSession({
    prepareProjects: (projects) => {
      projects.configure('slow', { seconds: 60 });
      projects.copy('slow', 'slow-2');
    },
    serverEnv: { AUTH_TOKEN: TOKEN, WORKER_NAME, MAX_CONCURRENT_BUILDS: '1' },
    context: 'per-suite',
    page: 'none',
  });

  /** The page with the token already given in this session, as after the token dialog. */
  async function openWithToken(): Promise<{ page: Page; errors: string[] }> {
    const { context, server } = session;
    await context.addInitScript((token) => (globalThis as PageWindow).sessionStorage.setItem('buildlog.token', token), TOKEN);
    const opened = await openPage(context, server.url);
    await waitForConnection(opened.page, 'connected');
    return opened;
  }

  it('lists the server’s worker live: busy with the running build (a link to it), idle again after; builds name their worker; polling stops when hidden', async () => {
    const { server } = session;
    const { page, errors } = await openWithToken();
    const polls: Array<string | undefined> = [];
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/workers') polls.push(r.headers().authorization);
    });

    await page.getByRole('tab', { name: 'Workers' }).click();
    await expect(page.getByRole('tab', { name: 'Workers' }).getAttribute('aria-selected')).resolves.toBe('true');
    await waitForText(page, `${WORKER} [data-role="worker-status"]`, 'idle');
    await expect(page.locator(`${WORKER} [data-role="worker-builds"]`).textContent()).resolves.toBe('no build running');

    // Started elsewhere (a bot): the next poll shows the worker busy with it.
    const running = await startBuild(server.url, 'slow', AUTH);
    const queued = await startBuild(server.url, 'slow-2', AUTH);
    await waitForText(page, `${WORKER} [data-role="worker-status"]`, 'busy');
    await expect(page.locator(`${WORKER} [data-role="worker-builds"] a`).evaluateAll((links) => links.map((a) => a.textContent))).resolves.toEqual([running.id]);
    await expect(page.locator(`${WORKER} [data-role="worker-slots"]`).textContent()).resolves.toBe('1/1 slots');
    await expect(page.locator(`${WORKER} [data-role="worker-last-seen"]`).textContent()).resolves.toMatch(/^seen (just now|\d+ s ago)$/);
    await saveScreenshot(page, 'workers-busy');

    // Its build link opens the build, which names its worker; the queued one names none yet.
    await page.locator(`${WORKER} a[data-build="${running.id}"]`).click();
    await expect(locationHash(page)).resolves.toBe(`#build=${running.id}`);
    await waitForStatus(page, 'running');
    await waitForText(page, '#build-worker', `on ${WORKER_NAME}`);
    await page.locator(`#history-list a[data-build="${queued.id}"]`).waitFor({ state: 'attached' });
    await expect(page.locator(`#history-list a[data-build="${queued.id}"] .worker`).count()).resolves.toBe(0);
    await expect(page.locator(`#history-list a[data-build="${running.id}"] .worker`).textContent()).resolves.toBe(`on ${WORKER_NAME}`);
    await page.goto(`${server.url}/#build=${queued.id}`);
    await waitForStatus(page, 'queued');
    await expect(page.locator('#build-worker').isHidden()).resolves.toBe(true);

    // Both over: idle again, and the finished build still names the worker that ran it.
    await request(`${server.url}/api/builds/${queued.id}/cancel`, { method: 'POST', headers: AUTH });
    await request(`${server.url}/api/builds/${running.id}/cancel`, { method: 'POST', headers: AUTH });
    await waitForBuild(server.url, running.id, (build) => build.status === 'cancelled', 30000, AUTH);
    await page.goto(`${server.url}/#build=${running.id}`);
    await waitForStatus(page, 'cancelled');
    await waitForText(page, '#build-worker', `on ${WORKER_NAME}`);
    await page.getByRole('tab', { name: 'Workers' }).click();
    await waitForText(page, `${WORKER} [data-role="worker-status"]`, 'idle');
    await expect(page.locator(`${WORKER} [data-role="worker-slots"]`).textContent()).resolves.toBe('0/1 slots');

    // Every poll carried the page's token; back on Builds, no more polls (two intervals and some).
    expect(polls.length).toBeGreaterThanOrEqual(3);
    expect(new Set(polls)).toEqual(new Set([`Bearer ${TOKEN}`]));
    await page.getByRole('tab', { name: 'Builds' }).click();
    await expect(page.locator('#workers').isHidden()).resolves.toBe(true);
    await saveScreenshot(page, 'workers-build-worker');
    const pollsWhenHidden = polls.length;
    await page.waitForTimeout(4500);
    expect(polls.length).toBeLessThanOrEqual(pollsWhenHidden + 1); // at most one sent just before the click, reported late
    await page.close();
    expect(errors).toEqual([]);
  });

  it('shows names, statuses and build ids that look like HTML as text, running nothing', async () => {
    const { page, errors } = await openWithToken();
    const hostile = '<img src=x onerror="window.__injected = 1">';
    await page.route('**/api/workers', (route) =>
      route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          workers: [
            {
              name: hostile,
              status: '<b>busy</b>',
              builds: ['<script>window.__injected = 2</script>'],
              maxConcurrentBuilds: 2,
              startedAt: new Date().toISOString(),
              lastSeenAt: new Date().toISOString(),
            },
          ],
        }),
      }),
    );
    await page.getByRole('tab', { name: 'Workers' }).click();
    const item = page.locator('#workers-list li.worker').first();
    await item.waitFor();
    await expect(item.locator('.name').textContent()).resolves.toBe(hostile);
    await expect(item.locator('[data-role="worker-status"]').textContent()).resolves.toBe('<b>busy</b>');
    await expect(item.locator('[data-role="worker-builds"] a').textContent()).resolves.toBe('<script>window.__injected = 2</script>');
    await expect(page.locator('#workers-list img, #workers-list script, #workers-list b').count()).resolves.toBe(0);
    await expect(page.evaluate(() => (globalThis as PageWindow).__injected)).resolves.toBeUndefined();
    await saveScreenshot(page, 'workers-html-injection');
    await page.close();
    expect(errors).toEqual([]);
  });
});
