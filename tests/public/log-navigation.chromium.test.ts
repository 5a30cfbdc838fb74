import { startBuild, waitForEnd } from '../helpers/http.js';
import { saveScreenshot } from '../helpers/browser/browser.js';
import {
  drawnLines,
  isLogAtEnd,
  isLineInView,
  lineCount,
  locationHash,
  logScrollTop,
  nextFrames,
  waitForLine,
  waitForLineCount,
  waitForStatus,
  waitForText,
} from '../helpers/browser/log-page.js';
import { usePageSession } from '../helpers/browser/page-session.js';

describe('moving around a log', () => {
  // A blank page: each test goes to the address it is about.
  const session = usePageSession({
    prepareProjects: (projects) => projects.configure('lines', { count: 500 }),
    context: 'per-test',
    page: 'about:blank',
  });
  let finishedBuild: string;

  beforeAll(async () => {
    const { server } = session;
    finishedBuild = (await startBuild(server.url, 'lines')).id;
    await waitForEnd(server.url, finishedBuild);
  });

  it('opens #build=<id>&L123 with line 123 highlighted in view, also after a reload', async () => {
    const { page, server } = session;
    await page.goto(`${server.url}/#build=${finishedBuild}&L123`);
    await waitForStatus(page, 'succeeded');
    await page.locator('#log .row.line.is-target').waitFor();
    const target = (await drawnLines(page)).filter((line) => line.isTarget);
    expect(target).toEqual([{ number: 123, text: expect.stringMatching(/^line \d{6} /), stream: 'stdout', isTarget: true }]);
    await expect(isLineInView(page, 123)).resolves.toBe(true);
    await saveScreenshot(page, 'permalink');

    await page.reload();
    await waitForStatus(page, 'succeeded');
    await page.locator('#log .row.line.is-target[data-line="123"]').waitFor();
    await expect(isLineInView(page, 123)).resolves.toBe(true);
    await saveScreenshot(page, 'permalink-after-reload');

    // A line number is itself the permalink.
    await page.getByRole('link', { name: 'Line 130', exact: true }).click();
    await page.locator('#log .row.line.is-target[data-line="130"]').waitFor();
    await expect(locationHash(page)).resolves.toBe(`#build=${finishedBuild}&L130`);
    expect((await drawnLines(page)).filter((line) => line.isTarget).map((line) => line.number)).toEqual([130]);
  });

  it('searches with a match count, next and previous', async () => {
    const { page, server } = session;
    await page.goto(`${server.url}/#build=${finishedBuild}`);
    await waitForStatus(page, 'succeeded');
    const search = page.getByRole('searchbox', { name: 'Search' });
    const count = page.locator('#search-count');
    await search.fill('LINE 00012');
    // Lines "line 000120" to "line 000129": 10 matches, case ignored; the first is current.
    await waitForText(page, '#search-count', '1 of 10');
    const current = page.locator('#log mark.is-current');
    await expect(current.textContent()).resolves.toBe('line 00012');
    await expect(current.evaluate((mark) => mark.closest('.row')!.querySelector('.text')!.textContent)).resolves.toMatch(/^line 000120 /);

    await search.press('Enter');
    await expect(count.textContent()).resolves.toBe('2 of 10');
    await page.getByRole('button', { name: 'Next match' }).click();
    await expect(count.textContent()).resolves.toBe('3 of 10');
    await nextFrames(page);
    await expect(current.evaluate((mark) => mark.closest('.row')!.querySelector('.text')!.textContent)).resolves.toMatch(/^line 000122 /);
    await page.getByRole('button', { name: 'Previous match' }).click();
    await page.getByRole('button', { name: 'Previous match' }).click();
    await search.press('Shift+Enter'); // wraps around to the last match
    await expect(count.textContent()).resolves.toBe('10 of 10');
    await nextFrames(page);
    await expect(current.evaluate((mark) => mark.closest('.row')!.querySelector('.text')!.textContent)).resolves.toMatch(/^line 000129 /);
    expect(await page.locator('#log mark').count()).toBeGreaterThanOrEqual(10);
    await saveScreenshot(page, 'search');

    await search.fill('no such text');
    await waitForText(page, '#search-count', 'No matches');
    await nextFrames(page);
    await expect(page.locator('#log mark').count()).resolves.toBe(0);
  });

  it('follows the end of a running log, pauses when scrolled up, and jumps back', async () => {
    const { page, projects, server } = session;
    projects.configure('lines', { count: 3000, batch: 20, delayMs: 40 });
    const build = await startBuild(server.url, 'lines');
    await page.goto(`${server.url}/#build=${build.id}`);
    await waitForLine(page, 'line 000300');
    const follow = page.getByRole('button', { name: 'Follow' });
    await expect(follow.getAttribute('aria-pressed')).resolves.toBe('true');
    // Following: the view shows the end of the log as lines keep coming.
    await waitForLineCount(page, 400);
    await nextFrames(page);
    await expect(isLogAtEnd(page)).resolves.toBe(true);
    await waitForLineCount(page, 500);
    await nextFrames(page);
    await expect(isLogAtEnd(page)).resolves.toBe(true);

    // The reader scrolls up: following pauses and the view stays where the reader put it.
    await page.locator('#log').hover();
    await page.mouse.wheel(0, -2000);
    await page.getByRole('button', { name: /Jump to latest/ }).waitFor();
    await expect(follow.getAttribute('aria-pressed')).resolves.toBe('false');
    const scrollTop = await logScrollTop(page);
    const linesBefore = await lineCount(page);
    await waitForLineCount(page, linesBefore + 100);
    await nextFrames(page);
    await expect(logScrollTop(page)).resolves.toBe(scrollTop);
    await expect(page.getByRole('button', { name: /Jump to latest \(\d[\d,]* new\)/ }).isVisible()).resolves.toBe(true);
    await saveScreenshot(page, 'follow-paused');

    await page.getByRole('button', { name: /Jump to latest/ }).click();
    await expect(follow.getAttribute('aria-pressed')).resolves.toBe('true');
    await waitForStatus(page, 'succeeded');
    await waitForLine(page, 'Build succeeded');
    await expect(isLineInView(page, await lineCount(page))).resolves.toBe(true);
    await saveScreenshot(page, 'follow-resumed');
  });
});
