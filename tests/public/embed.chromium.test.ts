import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { startBuild } from '../helpers/http.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import type { TestServer } from '../helpers/test-server.js';
import type { PageWindow } from '../helpers/browser/browser.js';
import { openPage } from '../helpers/browser/browser.js';
import { startPageServer } from '../helpers/browser/page-server.js';
import { usePageSession } from '../helpers/browser/page-session.js';

/** Rules a host page might have, each aimed at what the element draws with; none may get in. */
const HOSTILE_CSS = `
  body { font: italic 48px/3 Georgia, serif; color: rgb(255, 0, 255); letter-spacing: 6px; text-transform: uppercase; word-spacing: 20px; }
  div { padding: 30px !important; margin: 12px !important; border: 5px solid red !important; background: yellow !important; }
  span { font-size: 50px !important; color: green !important; display: block !important; }
  pre { margin: 40px; white-space: normal; }
  button { font-size: 60px !important; background: orange !important; padding: 20px !important; border-radius: 0 !important; }
`;

/** A host page of another origin that embeds the element for a build. */
function hostPage(serverUrl: string, buildId: string, css: string, attributes = `build="${buildId}"`, script = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8"><style>${css}</style>
<script type="module" src="${serverUrl}/embed.js"></script></head>
<body><h1>Host dashboard</h1><div class="panel"><span>panel:</span>
<build-log server="${serverUrl}" ${attributes} height="420" timestamps></build-log></div>
<script>
  window.statusEvents = [];
  window.endEvents = [];
  document.addEventListener('build-log:status', (event) => window.statusEvents.push(event.detail.status));
  document.addEventListener('build-log:end', (event) => window.endEvents.push(event.detail));
  ${script}
</script></body></html>`;
}

/** A tiny web server of a second origin (another port), serving the host pages. */
async function startHostServer(): Promise<{ url: string; setPage(html: string): void; close(): Promise<void> }> {
  let html = '<!doctype html><title>empty</title>';
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    setPage: (next) => {
      html = next;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The element's state as its shadow root shows it, and the lines of its log (the page's BuildLog). */
function elementState(page: Page): Promise<{ message: string; title: string; badge: string; steps: string[]; lines: string[]; drawn: string[] }> {
  return page.evaluate(() => {
    const element = (globalThis as PageWindow).document.querySelector('build-log');
    const root = element?.shadowRoot;
    const text = (selector: string) => root?.querySelector(selector)?.textContent ?? '';
    return {
      message: root?.querySelector('[data-role="message"]')?.hidden === false ? text('[data-role="message"]') : '',
      title: text('[data-role="title"]'),
      badge: text('[data-role="badge"]'),
      steps: [...(root?.querySelectorAll('[data-role="steps"] li') ?? [])].map((li: PageWindow) => li.textContent),
      lines: element?.view?.log.lines.map((line: PageWindow) => line.text) ?? [],
      drawn: [...(root?.querySelectorAll('.row.line .text') ?? [])].map((span: PageWindow) => span.textContent),
    };
  });
}

async function waitForState(page: Page, check: (state: Awaited<ReturnType<typeof elementState>>) => boolean, what: string, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = await elementState(page);
    if (check(state)) return state;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify({ ...state, lines: state.lines.slice(-5) })}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Computed styles of what the element draws, to compare a plain host with a hostile one. */
function insideStyles(page: Page): Promise<Record<string, Record<string, string>>> {
  return page.evaluate(() => {
    const win = globalThis as PageWindow;
    const root = win.document.querySelector('build-log').shadowRoot;
    const properties = ['font-family', 'font-size', 'font-style', 'line-height', 'color', 'background-color', 'padding-top', 'margin-top', 'border-top-width', 'letter-spacing', 'text-transform', 'display', 'border-radius', 'word-spacing'];
    const result: Record<string, Record<string, string>> = {};
    for (const selector of ['.frame', '.head', '.title', '[data-role="badge"]', '[data-role="follow"]', '.log', '.row.section', '.section-toggle', '.row.line', '.row.line .line-number', '.row.line .time', '.row.line .text', 'input[type="search"]']) {
      const element = root.querySelector(selector);
      if (!element) throw new Error(`no ${selector} in the element`);
      const style = win.getComputedStyle(element);
      result[selector] = Object.fromEntries(properties.map((name) => [name, style.getPropertyValue(name)]));
    }
    return result;
  });
}

const ticks = (lines: readonly string[]) => lines.filter((text) => text.startsWith('tick ')).map((text) => Number(text.slice(5)));
const oneTo = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('<build-log> embedded in a page of another origin', () => {
  const session = usePageSession({ startsServer: false, context: 'per-test', page: 'none' });
  let host: Awaited<ReturnType<typeof startHostServer>>;
  const servers: TestServer[] = [];
  const relays: TcpRelay[] = [];

  beforeAll(async () => {
    host = await startHostServer();
  });

  afterAll(async () => {
    for (const relay of relays) await relay.close();
    for (const server of servers) await server.stop();
    await host?.close();
  });

  async function start(env: Record<string, string> = {}): Promise<TestServer> {
    const server = await startPageServer(session.projects, env);
    servers.push(server);
    return server;
  }

  it('streams a running build live, shows its steps and verdict, and the host page\'s styles change nothing inside', async () => {
    const server = await start({ CORS_ORIGINS: host.url });
    session.projects.configure('slow', { seconds: 3 });
    const build = await startBuild(server.url, 'slow');

    host.setPage(hostPage(server.url, build.id, ''));
    const { page: plain } = await openPage(session.context, host.url, session.errors);
    const live = await waitForState(plain, (s) => ticks(s.lines).length >= 5 && s.badge === 'running', 'ticks while running');
    expect(live.steps).toEqual(expect.arrayContaining([expect.stringMatching(/^build: running/)]));
    expect(live.drawn.some((text) => text.startsWith('tick '))).toBe(true);
    const later = await waitForState(plain, (s) => ticks(s.lines).length > ticks(live.lines).length, 'more ticks');
    expect(later.badge).toBe('running');

    const done = await waitForState(plain, (s) => s.badge === 'succeeded', 'the verdict', 30000);
    expect(ticks(done.lines)).toEqual(oneTo(30));
    expect(done.lines.at(-1)).toMatch(/^Build succeeded in [\d.]+ s \(exit code 0\)$/);
    expect(done.steps).toEqual([expect.stringMatching(/^install: succeeded \((\d+ ms|[\d.]+ s)\)$/), expect.stringMatching(/^build: succeeded \([\d.]+ s\)$/)]);
    const events = await plain.evaluate(() => ({ status: (globalThis as PageWindow).statusEvents, end: (globalThis as PageWindow).endEvents.map((b: PageWindow) => b.status) }));
    expect(events.status.at(-1)).toBe('succeeded');
    expect(events.status).toContain('running');
    expect(events.end).toEqual(['succeeded']);
    const plainStyles = await insideStyles(plain);

    host.setPage(hostPage(server.url, build.id, HOSTILE_CSS));
    const { page: hostile } = await openPage(session.context, host.url, session.errors);
    await waitForState(hostile, (s) => s.badge === 'succeeded' && s.drawn.length > 0, 'the finished build');
    // The host's own elements did take the rules: the test would notice if they did not apply.
    expect(await hostile.evaluate(() => (globalThis as PageWindow).getComputedStyle((globalThis as PageWindow).document.querySelector('.panel')).backgroundColor)).toBe('rgb(255, 255, 0)');
    expect(await insideStyles(hostile)).toEqual(plainStyles);
    expect(plainStyles['.row.line .text']!['font-family']).toMatch(/mono/i);
  }, 60000);

  it('survives a server restart behind the same port without showing a line twice', async () => {
    const first = await start({ CORS_ORIGINS: host.url });
    const relay = await startTcpRelay(first.port);
    relays.push(relay);
    session.projects.configure('slow', { seconds: 30 });
    const build = await startBuild(first.url, 'slow');
    host.setPage(hostPage(relay.url, build.id, HOSTILE_CSS));
    const { page } = await openPage(session.context, host.url, session.errors);
    await waitForState(page, (s) => ticks(s.lines).length >= 5, '5 ticks');

    relay.forwardTo(null);
    first.httpServer.closeAllConnections();
    await first.stop();
    const second = await start({ CORS_ORIGINS: host.url, DATA_DIR: first.dataDir });
    relay.forwardTo(second.port);
    const state = await waitForState(page, (s) => s.badge === 'interrupted', 'the interrupted verdict', 30000);

    const numbers = ticks(state.lines);
    expect(numbers).toEqual(oneTo(numbers.length));
    expect(state.lines.at(-1)).toMatch(/Build interrupted/);
    expect(state.lines.filter((text) => /Build interrupted/.test(text))).toHaveLength(1);
    expect(await page.evaluate(() => (globalThis as PageWindow).endEvents.map((b: PageWindow) => b.status))).toEqual(['interrupted']);
  }, 60000);

  it('says that CORS_ORIGINS must allow the host page when the server does not', async () => {
    // CORS_ORIGINS lists another origin: the modules load (public code), the API refuses this page.
    const server = await start({ CORS_ORIGINS: 'https://someone-else.example' });
    const build = await startBuild(server.url, 'failing');
    host.setPage(hostPage(server.url, build.id, HOSTILE_CSS));
    // The browser reports the refused requests on the console; those are expected here.
    const { page } = await openPage(session.context, host.url, session.errors);
    const state = await waitForState(page, (s) => s.message !== '', 'the message');
    expect(state.message).toContain('CORS_ORIGINS');
    expect(state.message).toContain(host.url);
    expect(state.lines).toEqual([]);
  }, 30000);

  it('with project=, shows its latest build, moves to the next one when it starts, and cancel() cancels it; the token as a property', async () => {
    const token = 'embed-token-4711';
    const auth = { Authorization: `Bearer ${token}` };
    const server = await start({ CORS_ORIGINS: host.url, AUTH_TOKEN: token });
    session.projects.configure('slow', { seconds: 1 });
    const first = await startBuild(server.url, 'slow', auth);
    // Set before the element is defined (an inline script runs before the module): it must still count.
    host.setPage(hostPage(server.url, '', '', 'project="slow"', `document.querySelector('build-log').token = ${JSON.stringify(token)};`));
    const { page } = await openPage(session.context, host.url, session.errors);
    await waitForState(page, (s) => s.title.includes(first.id) && s.badge === 'succeeded', 'the first build, finished', 30000);
    expect(await page.evaluate(() => (globalThis as PageWindow).document.querySelector('build-log').hasAttribute('token'))).toBe(false);

    session.projects.configure('slow', { seconds: 30 });
    const second = await startBuild(server.url, 'slow', auth);
    const running = await waitForState(page, (s) => s.title.includes(second.id) && ticks(s.lines).length >= 3, 'the next build, running');
    expect(running.badge).toBe('running');
    const cancelled = await page.evaluate(() => (globalThis as PageWindow).document.querySelector('build-log').cancel().then((build: PageWindow) => build.id));
    expect(cancelled).toBe(second.id);
    const state = await waitForState(page, (s) => s.badge === 'cancelled', 'the cancelled verdict', 20000);
    expect(state.lines.at(-1)).toMatch(/^Build cancelled/);
    await page.waitForFunction(() => (globalThis as PageWindow).endEvents.length === 2);
    expect(await page.evaluate(() => (globalThis as PageWindow).endEvents.map((b: PageWindow) => [b.id, b.status]))).toEqual([
      [first.id, 'succeeded'],
      [second.id, 'cancelled'],
    ]);
  }, 60000);
});
