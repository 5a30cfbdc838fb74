import fs from 'node:fs';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { type PageWindow, saveScreenshot } from '../helpers/browser/browser.js';
import {
  drawnLines,
  isLineInView,
  locationHash,
  nextFrames,
  readWholeLog,
  scrollLogTo,
  shownBuildId,
  spanStyle,
  waitForLine,
  waitForStatus,
  waitForText,
} from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

/** Control characters and the visible remains of escape codes that must never reach the page. */
const GARBAGE = /[\x00-\x08\x0b-\x1f\x7f]|\[[0-9;]*[mKG]/;

describe('the build page', () => {
  const session = usePageSession({
    prepareProjects: (projects) => {
      projects.configure('terminal', { fillerLines: 300 });
      projects.configure('slow', { seconds: 60 });
      projects.configure('lines', { count: 200 });
    },
    context: 'per-test',
    page: 'server',
  });

  /** Picks a project from the list and presses Build; returns the new build's id. */
  async function buildFromPage(name: string): Promise<string> {
    const { page } = session;
    await page.getByLabel('Project').selectOption({ label: name });
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await page.waitForURL(/#build=/);
    return shownBuildId(page);
  }

  it('builds the demo from the project list and shows its output in colour, with no escape codes', async () => {
    const { page, server } = session;
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.reload();
    await buildFromPage('demo-app');
    await waitForStatus(page, 'succeeded');
    await waitForLine(page, 'Build succeeded');

    // The summary: status, duration, exit code, and one section per step with its result.
    await expect(page.locator('#build-exit').textContent()).resolves.toBe('exit code 0');
    await expect(page.locator('#build-elapsed').textContent()).resolves.toMatch(/^took \d/);
    await expect(page.locator('#build-steps').textContent()).resolves.toMatch(/install: succeeded \(.+\)build: succeeded \(.+\)/);
    const lines = await readWholeLog(page);
    const texts = lines.map((line) => line.text);
    await scrollLogTo(page, 0);
    await nextFrames(page);
    const installHeader = page.locator('#log .row.section').filter({ hasText: 'install' });
    await expect(installHeader.textContent()).resolves.toMatch(/yarn install\s+succeeded\s+\d.*exit code 0/);

    expect(texts).toContain('yarn install v1.22.22');
    expect(texts).toContain('Rendering chunks ########## 100%');
    expect(texts.filter((text) => text.startsWith('Rendering chunks'))).toHaveLength(1);
    expect(texts.find((text) => GARBAGE.test(text))).toBeUndefined();
    expect(lines.map((line) => line.number)).toEqual(lines.map((_, i) => i + 1));
    expect(lines.find((line) => line.text.startsWith('warning chunk'))?.stream).toBe('stderr');

    // `ESC[1;36m`: bold cyan, coloured by ansi_up's class and our palette.
    await page.locator('#log .row.line').filter({ hasText: 'demo-bundler' }).first().scrollIntoViewIfNeeded();
    await expect(spanStyle(page, 'demo-bundler v3.2.0')).resolves.toBe('rgb(10, 107, 124) 700');
    await saveScreenshot(page, 'demo-build-colours');
    // Everything the page loaded came from the server itself (ansi_up included): no CDN.
    expect(requested.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
    expect(requested).toContain(`${server.url}/vendor/ansi_up.js`);
  });

  it('draws terminal output as a terminal would: colours, line rewrites, \\r progress, a cut escape code', async () => {
    const { page, server } = session;
    const build = await startBuild(server.url, 'terminal');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForStatus(page, 'succeeded');
    await scrollLogTo(page, 0);
    await waitForLine(page, 'red text');
    const texts = (await drawnLines(page)).map((line) => line.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        'red text, bold text, orange 256, true colour',
        '[1/4] Resolving packages...',
        'success Saved lockfile.',
        'Progress ########## 100%',
        'split escape: blue after the cut',
        'windows line',
      ]),
    );
    expect(texts.some((text) => text.includes('spinner') || text.includes('Progress ###...'))).toBe(false);
    expect(texts.find((text) => GARBAGE.test(text))).toBeUndefined();

    const colourOf = (text: string) => spanStyle(page, text);
    await expect(colourOf('red text')).resolves.toBe('rgb(196, 40, 47) 400');
    await expect(colourOf('bold text')).resolves.toMatch(/ 700$/);
    await expect(colourOf('orange 256')).resolves.toBe('rgb(255, 135, 0) 400');
    await expect(colourOf('true colour')).resolves.toBe('rgb(10, 200, 30) 400');
    await expect(colourOf('blue after the cut')).resolves.toBe('rgb(7, 87, 200) 400');
    await saveScreenshot(page, 'terminal-output');
  });

  it('reads in dark mode with its own palette', async () => {
    const { server } = session;
    const page = await session.reopenPage({ colorScheme: 'dark' });
    const build = await startBuild(server.url, 'failing');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForStatus(page, 'failed');
    const colours = await page.locator('#log').evaluate((log) => {
      const style = (globalThis as PageWindow).getComputedStyle(log);
      return { background: style.backgroundColor, text: style.color };
    });
    expect(colours).toEqual({ background: 'rgb(10, 13, 18)', text: 'rgb(230, 237, 243)' });
    await saveScreenshot(page, 'dark-mode');
  });

  it('cancels a running build with the Cancel button', async () => {
    const { page } = session;
    await page.getByLabel('Path').fill('slow');
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await waitForLine(page, 'tick 3');
    await expect(page.locator('#build-elapsed').textContent()).resolves.toMatch(/^running for/);
    const id = await shownBuildId(page);
    // Build again while it runs: the server says 409 and the page stays on the running build.
    await page.getByRole('button', { name: 'Build', exact: true }).click();
    await page.getByRole('alert').getByText('That project is already building').waitFor();
    await expect(shownBuildId(page)).resolves.toBe(id);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await waitForStatus(page, 'cancelled');
    await waitForLine(page, 'Build cancelled');
    // The exit code the verdict line gives (yarn's own, as its process group was sent SIGTERM).
    const verdict = (await drawnLines(page)).find((line) => line.text.startsWith('Build cancelled'))!.text;
    const exitCode = /\(exit code (\d+)\)/.exec(verdict)![1];
    await expect(page.locator('#build-exit').textContent()).resolves.toBe(`exit code ${exitCode}`);
    await expect(page.getByRole('button', { name: 'Cancel' }).isDisabled()).resolves.toBe(true);
    await saveScreenshot(page, 'cancelled');
  });

  it('lists builds as they start and replays a finished one from the list', async () => {
    const { page, server } = session;
    const finished = await startBuild(server.url, 'failing');
    await waitForEnd(server.url, finished.id);
    await page.reload();
    // A build started elsewhere appears through the global stream.
    const live = await startBuild(server.url, 'lines');
    const liveLink = page.locator(`#history-list a[data-build="${live.id}"]`);
    await liveLink.waitFor();
    await waitForText(page, `#history-list a[data-build="${live.id}"] .badge`, 'succeeded');

    await page.locator(`#history-list a[data-build="${finished.id}"]`).click();
    await waitForLine(page, 'error: this build fails on purpose');
    await waitForStatus(page, 'failed');
    await expect(locationHash(page)).resolves.toBe(`#build=${finished.id}`);
    await expect(page.locator(`#history-list a[data-build="${finished.id}"]`).getAttribute('aria-current')).resolves.toBe('page');
    await saveScreenshot(page, 'history-replay');
  });

  it('collapses and expands a step from the keyboard', async () => {
    const { page, server } = session;
    const build = await startBuild(server.url, 'failing');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForLine(page, 'compiling...');
    const toggle = page.getByRole('button', { name: '▾ build' });
    await toggle.focus();
    await page.keyboard.press('Enter');
    const collapsed = page.getByRole('button', { name: '▸ build' });
    await expect(collapsed.getAttribute('aria-expanded')).resolves.toBe('false');
    await nextFrames(page);
    expect((await drawnLines(page)).map((line) => line.text)).not.toContain('compiling...');
    await saveScreenshot(page, 'section-collapsed');
    await collapsed.press('Space');
    await waitForLine(page, 'compiling...');
  });

  it('shows timestamps on demand and remembers the choice', async () => {
    const { page, server } = session;
    const build = await startBuild(server.url, 'failing');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForLine(page, 'compiling...');
    const time = page.locator('#log .row.line .time').first();
    await expect(time.isVisible()).resolves.toBe(false);
    await page.getByLabel('Timestamps').check();
    await expect(time.isVisible()).resolves.toBe(true);
    await expect(time.textContent()).resolves.toMatch(/^\d\d:\d\d:\d\d\.\d{3}$/);
    await page.reload();
    await waitForLine(page, 'compiling...');
    await expect(page.getByLabel('Timestamps').isChecked()).resolves.toBe(true);
    await saveScreenshot(page, 'timestamps');
  });

  it('downloads the raw log', async () => {
    const { page, server } = session;
    const build = await startBuild(server.url, 'terminal');
    await waitForEnd(server.url, build.id);
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForStatus(page, 'succeeded');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Download raw log' }).click()]);
    expect(download.suggestedFilename()).toBe(`terminal-${build.id}.log`);
    const saved = fs.readFileSync((await download.path())!, 'utf8');
    expect(saved).toBe((await request(`${server.url}/api/builds/${build.id}/log?raw=1`)).text);
    expect(saved).toContain('\x1b[2K\x1b[1G');
    await saveScreenshot(page, 'download');
  });

  it('jumps to the first error and makes it the address', async () => {
    const { page, server } = session;
    const build = await startBuild(server.url, 'terminal');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForStatus(page, 'succeeded');
    await page.getByRole('button', { name: 'Jump to first error' }).click();
    await page.waitForURL(/&L\d+$/);
    const number = Number(/&L(\d+)$/.exec(await locationHash(page))![1]);
    await page.locator('#log .row.line.is-target').waitFor();
    const target = (await drawnLines(page)).find((line) => line.isTarget);
    expect(target).toMatchObject({ number, text: 'error something went wrong here', stream: 'stderr' });
    await expect(isLineInView(page, number)).resolves.toBe(true);
    await saveScreenshot(page, 'first-error');
  });
});
