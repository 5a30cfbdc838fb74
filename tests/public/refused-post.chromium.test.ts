import { startHoldingProxy, type HoldingProxy } from '../helpers/proxy/holding-proxy.js';
import { postJson } from '../helpers/http.js';
import { openPage, saveScreenshot } from '../helpers/browser/browser.js';
import { waitForConnection } from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

describe('the page when the server refuses its POST for its Origin', () => {
  const session = usePageSession({ context: 'per-test', page: 'none' });
  let proxy: HoldingProxy | undefined;

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  it("shows the server's message, which names the variable to set, instead of Connected", async () => {
    // A proxy that sends the server its own address as Host (nginx's $proxy_host), the server not told
    // about it: the page's Origin matches nothing the server knows.
    proxy = await startHoldingProxy(session.server.url, { holdsStreams: false, hostHeader: 'upstream' });
    const refusal = await postJson(`${proxy.url}/api/project/build`, { projectPath: 'failing' }, { Origin: proxy.url });
    expect(refusal.status).toBe(403);
    expect(refusal.json.error.code).toBe('forbidden_origin');

    const { page } = await openPage(session.context, proxy.url, session.errors);
    await waitForConnection(page, 'connected');
    await page.getByLabel('Project').selectOption({ label: 'failing' });
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await waitForConnection(page, 'refused');
    await expect(page.locator('[data-role="connection-text"]').textContent()).resolves.toBe(refusal.json.error.message);
    await saveScreenshot(page, 'post-refused');
  });
});
