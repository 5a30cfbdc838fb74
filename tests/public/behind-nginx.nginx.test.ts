import type { Browser } from 'playwright-core';
import { type PageWindow, launchBrowser, newContext, openPage, saveScreenshot } from '../helpers/browser/browser.js';
import { waitForConnection, waitForLine, waitForStatus } from '../helpers/browser/log-page.js';
import { startProxiedServer, type ProxiedServer } from '../helpers/proxy/proxied-server.js';

describe('the page over https through nginx', () => {
  let browser: Browser;
  let proxied: ProxiedServer | undefined;

  beforeAll(async () => {
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
  });

  afterEach(async () => {
    await proxied?.stop();
    proxied = undefined;
  });

  /** Builds `slow`, sees its lines stream in, cancels it; over HTTP/2, with no warning and no error. */
  async function buildStreamAndCancel(awareness: 'trust-proxy' | 'public-url', screenshot: string): Promise<void> {
    proxied = await startProxiedServer('good', awareness);
    const context = await newContext(browser, { ignoreHTTPSErrors: true });
    try {
      const { page, errors } = await openPage(context, proxied.nginx.url);
      await waitForConnection(page, 'connected');
      expect(await page.evaluate(() => (globalThis as PageWindow).performance.getEntriesByType('navigation')[0].nextHopProtocol)).toBe('h2');

      await page.getByLabel('Project').selectOption({ label: 'slow' });
      await page.getByRole('button', { name: 'Build', exact: true }).click();
      await waitForStatus(page, 'running');
      await waitForLine(page, 'tick 5');
      await page.getByRole('button', { name: 'Cancel' }).click();
      await waitForStatus(page, 'cancelled');
      await waitForConnection(page, 'connected');
      await expect(page.locator('#notice').isVisible()).resolves.toBe(false);
      await saveScreenshot(page, screenshot);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  }

  it('builds, streams and cancels with TRUST_PROXY=true', () => buildStreamAndCancel('trust-proxy', 'nginx-trust-proxy'), 60000);

  it('builds, streams and cancels with PUBLIC_URL', () => buildStreamAndCancel('public-url', 'nginx-public-url'), 60000);

  it("shows the server's refusal when nginx sends the wrong Host and the server was not told its URL", async () => {
    proxied = await startProxiedServer('wrong-host', 'none');
    const context = await newContext(browser, { ignoreHTTPSErrors: true });
    try {
      const { page, errors } = await openPage(context, proxied.nginx.url);
      await waitForConnection(page, 'connected');
      await page.getByLabel('Project').selectOption({ label: 'failing' });
      await page.getByRole('button', { name: 'Build', exact: true }).click();
      await waitForConnection(page, 'refused');
      await expect(page.locator('[data-role="connection-text"]').textContent()).resolves.toContain(proxied.nginx.url);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
