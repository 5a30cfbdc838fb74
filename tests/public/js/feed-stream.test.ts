import { createBuildLogClient } from '../../../src/client/build-log-client.js';
import { makeProjectsRoot, type ProjectsRoot } from '../../helpers/projects.js';
import { SseReader } from '../../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { waitFor } from '../../helpers/wait.js';
import { loadPageModule, type FeedStreamApi, type FeedStreamModule } from '../../helpers/page-modules.js';

const { FeedStream } = await loadPageModule<FeedStreamModule>('feed-stream');

/** A page stream's events and states, kept for the assertions. */
class Watcher {
  readonly events: { name: string; id: string | null; data: unknown }[] = [];
  readonly states: { state: string; detail: { retryAt?: number } }[] = [];
  readonly onEvent = (name: string, id: string | null, data: unknown): void => void this.events.push({ name, id, data });
  readonly onState = (state: string, detail: { retryAt?: number }): void => void this.states.push({ state, detail });
  get stateNames(): string[] {
    return this.states.map((entry) => entry.state);
  }
}

/** The page's TokenStore as a FeedStream uses it: `next()` resolves when a token is set. */
function tokenStore(): { next(): Promise<string>; set(token: string): void } {
  let waiters: ((token: string) => void)[] = [];
  return {
    next: () => new Promise((resolve) => waiters.push(resolve)),
    set(token) {
      for (const resolve of waiters) resolve(token);
      waiters = [];
    },
  };
}

describe('FeedStream (public/js/feed-stream.js): the client\'s follow in the connection line\'s words', () => {
  let projects: ProjectsRoot;
  const servers: TestServer[] = [];
  const streams: FeedStreamApi[] = [];

  beforeAll(() => {
    projects = makeProjectsRoot();
  });

  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    projects?.remove();
  });

  async function start(env: Record<string, string> = {}): Promise<TestServer> {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, RETRY_MS: '100', ...env });
    servers.push(server);
    return server;
  }

  function open(options: Omit<ConstructorParameters<FeedStreamModule['FeedStream']>[0], 'onEvent' | 'onState'>, watcher: Watcher): FeedStreamApi {
    const stream = new FeedStream({ ...options, onEvent: watcher.onEvent, onState: watcher.onState });
    streams.push(stream);
    stream.start();
    return stream;
  }

  it('follows a build from connecting to ended, handing on its lines, status changes and end as the client parsed them', async () => {
    const server = await start();
    const client = createBuildLogClient({ server: server.url });
    const { build } = await client.startBuild('failing');
    const watcher = new Watcher();
    open({ client, build: build.id, tokens: tokenStore() }, watcher);
    await waitFor(() => watcher.stateNames.includes('ended'), 'the end');

    expect(watcher.stateNames).toEqual(['connecting', 'connected', 'ended']);
    expect(watcher.events.at(-1)).toMatchObject({ name: 'end', data: { build: { id: build.id, status: 'failed' } } });
    expect(watcher.events.some((event) => event.name === 'log' && (event.data as { text: string }).text === 'compiling...')).toBe(true);
    expect(watcher.events.some((event) => event.name === 'build')).toBe(true);
  });

  it('hands on only the status changes of the global stream, not every build\'s lines', async () => {
    const server = await start();
    const client = createBuildLogClient({ server: server.url });
    const watcher = new Watcher();
    open({ client, tokens: tokenStore() }, watcher);
    await waitFor(() => watcher.stateNames.includes('connected'), 'the connection');
    const { build } = await client.startBuild('failing');
    await waitFor(() => watcher.events.some((event) => (event.data as { build?: { status?: string } }).build?.status === 'failed'), 'the failed build');

    expect(new Set(watcher.events.map((event) => event.name))).toEqual(new Set(['build']));
    expect(watcher.events.every((event) => (event.data as { build: { id: string } }).build.id === build.id)).toBe(true);
  });

  it('says server-full with the time of its next try on a 503, then connected once there is room', async () => {
    const server = await start({ MAX_CLIENTS: '1' });
    const holder = new SseReader(`${server.url}/api/log/push`);
    await holder.connected;
    const watcher = new Watcher();
    const beforeMs = Date.now();
    open({ client: createBuildLogClient({ server: server.url }), tokens: tokenStore() }, watcher);
    await waitFor(() => watcher.stateNames.includes('server-full'), 'server-full');
    holder.close();
    await waitFor(() => watcher.stateNames.includes('connected'), 'the connection', 15000);

    const full = watcher.states.find((entry) => entry.state === 'server-full')!;
    // The server's Retry-After is 5 s.
    expect(full.detail.retryAt! - beforeMs).toBeGreaterThanOrEqual(5000);
    expect(full.detail.retryAt! - beforeMs).toBeLessThan(7000);
    expect(watcher.stateNames).toEqual(['connecting', 'server-full', 'reconnecting', 'connected']);
  }, 20000);

  it('says not-found for a build the server does not know', async () => {
    const server = await start();
    const watcher = new Watcher();
    open({ client: createBuildLogClient({ server: server.url }), build: '000000000zzzzzz', tokens: tokenStore() }, watcher);
    await waitFor(() => watcher.stateNames.includes('not-found'), 'not-found');
    expect(watcher.stateNames).toEqual(['connecting', 'not-found']);
  });

  it('says unauthorized when the client gives up on a 401, and follows again once a token arrives', async () => {
    const server = await start({ AUTH_TOKEN: 'feed-token-1' });
    let token: string | null = null;
    const client = createBuildLogClient({ server: server.url, token: () => token });
    const { build } = await createBuildLogClient({ server: server.url, token: 'feed-token-1' }).startBuild('failing');
    const tokens = tokenStore();
    const watcher = new Watcher();
    open({ client, build: build.id, tokens }, watcher);
    await waitFor(() => watcher.stateNames.includes('unauthorized'), 'unauthorized');
    token = 'feed-token-1';
    tokens.set(token);
    await waitFor(() => watcher.stateNames.includes('ended'), 'the end');

    expect(watcher.stateNames).toEqual(['connecting', 'unauthorized', 'reconnecting', 'connected', 'ended']);
    expect(watcher.events.at(-1)).toMatchObject({ name: 'end', data: { build: { status: 'failed' } } });
  });
});
