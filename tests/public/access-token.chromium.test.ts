import fs from 'node:fs';
import { request } from '../helpers/http.js';
import { type PageWindow, openPage, saveScreenshot } from '../helpers/browser/browser.js';
import { shownBuildId, waitForConnection, waitForLine, waitForStatus } from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

const TOKEN = 'the-s3cret-token';

describe('a server that needs a token', () => {
  // One context for both tests: the second checks that a new tab of the same session is not asked again.
  // Each test opens its own page and checks that page's errors.
  const session = usePageSession({ serverEnv: { AUTH_TOKEN: TOKEN }, context: 'per-suite', page: 'none' });

  it('asks for the token once, says when it is refused, and then uses it for requests and streams', async () => {
    const { context, server } = session;
    const { page, errors } = await openPage(context, server.url);
    const dialog = page.getByRole('dialog', { name: 'Access token' });
    await dialog.waitFor();
    await expect(dialog.textContent()).resolves.toContain('This server needs an access token.');
    await saveScreenshot(page, 'token-asked');
    await dialog.getByLabel('Token').fill('wrong');
    await dialog.getByRole('button', { name: 'Use token' }).click();
    await dialog.getByText('The server refused that token.').waitFor();
    await dialog.getByLabel('Token').fill(TOKEN);
    await dialog.getByRole('button', { name: 'Use token' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await waitForConnection(page, 'connected');

    await page.getByLabel('Project').selectOption({ label: 'failing' });
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await waitForStatus(page, 'failed');
    await waitForLine(page, 'error: this build fails on purpose');
    expect(await page.evaluate(() => (globalThis as PageWindow).sessionStorage.getItem('buildlog.token'))).toBe(TOKEN);

    // The download link cannot carry the header: the page fetches the log with it instead.
    const id = await shownBuildId(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download raw log' }).click()]);
    const raw = await request(`${server.url}/api/builds/${id}/log?raw=1`, { headers: { Authorization: `Bearer ${TOKEN}` } });
    expect(fs.readFileSync((await download.path())!, 'utf8')).toBe(raw.text);
    await saveScreenshot(page, 'token-accepted');

    // A reload keeps it for the session: no question.
    await page.reload();
    await waitForStatus(page, 'failed');
    await waitForConnection(page, 'connected');
    await expect(dialog.isVisible()).resolves.toBe(false);
    expect(errors).toEqual([]);
  });

  it('gives the token to a new tab of the same session without asking again', async () => {
    const { context, server } = session;
    const { page: second, errors: secondErrors } = await openPage(context, server.url);
    await waitForConnection(second, 'connected');
    await second.locator('#history-list a').first().waitFor();
    await expect(second.getByRole('dialog', { name: 'Access token' }).isVisible()).resolves.toBe(false);
    await saveScreenshot(second, 'token-shared');
    expect(secondErrors).toEqual([]);
  });
});
