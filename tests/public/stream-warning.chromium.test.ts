import { startHoldingProxy, type HoldingProxy } from '../helpers/proxy/holding-proxy.js';
import { waitFor } from '../helpers/wait.js';
import { openPage, saveScreenshot } from '../helpers/browser/browser.js';
import { waitForConnection } from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

const ADVICE = 'a proxy between you and the server buffers it. In nginx, set proxy_buffering off where it proxies /api/log/push; buildlog doctor checks the whole way.';

describe('the page behind a proxy that holds its stream back', () => {
  // Quick heartbeats, so that a held stream gathers several in a second.
  const session = usePageSession({ serverEnv: { HEARTBEAT_MS: '100' }, context: 'per-test', page: 'none' });
  let proxy: HoldingProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it('warns, with the advice, when nothing reaches it on its stream, not even a heartbeat', async () => {
    proxy = await startHoldingProxy(session.server.url, { holdsStreams: true, hostHeader: 'client' });
    // The page's clock runs as usual until the test moves it on: no real 35 s wait.
    await session.context.clock.install();
    const { page } = await openPage(session.context, proxy.url, session.errors);
    await waitFor(() => proxy!.heldPings() >= 1, 'a heartbeat held back');
    await waitForConnection(page, 'connected');
    await page.clock.fastForward(36000);
    await waitForConnection(page, 'held-back');
    await expect(page.locator('[data-role="connection-text"]').textContent()).resolves.toBe(
      `Nothing reached this page on its stream for 35 s, not even the server's heartbeat: ${ADVICE}`,
    );
    await saveScreenshot(page, 'stream-held-back');
  });

  it('warns when the heartbeats arrive in a clump after a silence', async () => {
    proxy = await startHoldingProxy(session.server.url, { holdsStreams: true, hostHeader: 'client' });
    const { page } = await openPage(session.context, proxy.url, session.errors);
    await waitFor(() => proxy!.heldPings() >= 4 && proxy!.heldForMs() >= 1000, 'heartbeats held back for a second');
    proxy.release();
    await waitForConnection(page, 'held-back');
    await expect(page.locator('[data-role="connection-text"]').textContent()).resolves.toMatch(
      new RegExp(`^The stream reaches this page in clumps \\(\\d+ heartbeats at once after \\d+\\.\\d s of silence\\): ${ADVICE.replace(/[.()/]/g, '\\$&')}$`),
    );
    await saveScreenshot(page, 'stream-clumps');
  });

  it('says nothing when the stream comes at once, and lets its look at it go', async () => {
    proxy = await startHoldingProxy(session.server.url, { holdsStreams: false, hostHeader: 'client' });
    const page = await session.context.newPage();
    page.on('pageerror', (error) => session.errors.push(error.message));
    // The look is a fetch of the global stream; EventSource's requests are of another type.
    const lookEnded = page.waitForEvent('requestfailed', (request) => request.resourceType() === 'fetch' && request.url().endsWith('/api/log/push'));
    await page.goto(proxy.url);
    await lookEnded;
    await waitForConnection(page, 'connected');
    await expect(page.locator('[data-role="connection-text"]').textContent()).resolves.toBe('Connected');
  });
});
