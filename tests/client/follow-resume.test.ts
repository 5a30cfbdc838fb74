import { createBuildLogClient } from '../../src/client/build-log-client.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { Recorder, oneToN, streamFetch } from '../helpers/client-harness.js';

/** Strictly increasing: no event handed on twice, none out of order. */
function isIncreasing(numbers: readonly number[]): boolean {
  return numbers.every((n, i) => i === 0 || n > numbers[i - 1]!);
}

describe('BuildLogClient.follow across faults', () => {
  let projects: ProjectsRoot;
  const servers: TestServer[] = [];
  const relays: TcpRelay[] = [];

  beforeAll(() => {
    projects = makeProjectsRoot();
  });

  afterAll(async () => {
    for (const relay of relays) await relay.close();
    for (const server of servers) await server.stop();
    projects?.remove();
  });

  async function start(env: Record<string, string> = {}): Promise<TestServer> {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, RETRY_MS: '100', ...env });
    servers.push(server);
    return server;
  }

  it('hands on every line exactly once, in order, with connections cut at random points and a reset', async () => {
    const LINES = 4000;
    projects.configure(projects.copy('lines', 'lines-cuts').split('/').pop()!, { count: LINES, batch: 20, delayMs: 10 });
    const server = await start();
    const { fetch, connections, forgeNextId } = streamFetch();
    const client = createBuildLogClient({ server: server.url, fetch });
    const { build } = await client.startBuild('lines-cuts');
    const recorder = new Recorder();
    const following = client.follow({ build: build.id, onEvent: recorder.onEvent, onStatus: recorder.onStatus });
    let isDone = false;
    void following.finally(() => {
      isDone = true;
    });

    // Cut at random moments (also mid-event: the server's writes are not aligned to our reads).
    for (let cut = 0; cut < 6 && !isDone; cut += 1) {
      await sleep(100 + Math.floor(Math.random() * 400));
      if (cut === 3) forgeNextId();
      server.httpServer.closeAllConnections();
    }
    const result = await following;

    expect(result.outcome).toBe('ended');
    expect(result.build.status).toBe('succeeded');
    expect(connections()).toBeGreaterThan(1);
    expect(recorder.statuses.filter((s) => s.state === 'reset')).toHaveLength(1);
    expect(recorder.lineNumbers).toEqual(oneToN(LINES));
    expect(isIncreasing(recorder.eventNumbers)).toBe(true);
    expect(recorder.rawOutput).toBe(await client.readLog(build.id, { raw: true }));
  }, 60000);

  it('follows the build across a server restart behind the same port: every line once, then interrupted', async () => {
    projects.configure(projects.copy('lines', 'lines-restart').split('/').pop()!, { count: 20000, batch: 10, delayMs: 10 });
    const first = await start();
    const relay = await startTcpRelay(first.port);
    relays.push(relay);
    const client = createBuildLogClient({ server: relay.url });
    const { build } = await client.startBuild('lines-restart');
    const recorder = new Recorder();
    const following = client.follow({ build: build.id, onEvent: recorder.onEvent, onStatus: recorder.onStatus });
    await waitFor(() => recorder.lineNumbers.length >= 300, '300 lines');
    relay.forwardTo(null);
    first.httpServer.closeAllConnections();
    await first.stop();
    const before = recorder.lineNumbers;
    await waitFor(() => recorder.statuses.some((s) => s.state === 'retrying' && /cannot reach/.test(s.reason)), 'a refused reconnect');
    const second = await start({ DATA_DIR: first.dataDir });
    relay.forwardTo(second.port);
    const result = await following;

    expect(result.build.status).toBe('interrupted');
    const numbers = recorder.lineNumbers;
    expect(numbers).toEqual(oneToN(numbers.length));
    expect(numbers.slice(0, before.length)).toEqual(before);
    expect(isIncreasing(recorder.eventNumbers)).toBe(true);
    expect(recorder.lines.at(-1)!.text).toMatch(/Build interrupted/);
    expect(recorder.rawOutput).toBe(await createBuildLogClient({ server: second.url }).readLog(build.id, { raw: true }));
  }, 60000);

  it('waits out 503 too_many_clients for its Retry-After, then follows the build', async () => {
    const server = await start({ MAX_CLIENTS: '1' });
    const holder = new SseReader(`${server.url}/api/log/push`);
    await holder.connected;
    const client = createBuildLogClient({ server: server.url });
    const { build } = await client.startBuild('failing');
    const recorder = new Recorder();
    const following = client.follow({ build: build.id, onEvent: recorder.onEvent, onStatus: recorder.onStatus });
    await waitFor(() => recorder.statuses.find((s) => s.state === 'retrying'), 'the 503');
    holder.close();
    const result = await following;

    expect(recorder.statuses.find((s) => s.state === 'retrying')).toMatchObject({ reason: 'the server is busy (503 too_many_clients)', delayMs: 5000, httpStatus: 503 });
    expect(result.build.status).toBe('failed');
    expect(recorder.stdout).toContain('compiling...\n');
  }, 30000);

  it('on the global stream, hands on no event twice after a reset replays the kept history', async () => {
    projects.configure(projects.copy('lines', 'lines-global').split('/').pop()!, { count: 1500, batch: 20, delayMs: 10 });
    const server = await start();
    const { fetch, forgeNextId } = streamFetch();
    const client = createBuildLogClient({ server: server.url, fetch });
    const controller = new AbortController();
    const recorder = new Recorder();
    let isOpen = false;
    const following = client.follow({
      signal: controller.signal,
      onEvent: recorder.onEvent,
      onStatus: (status) => {
        recorder.onStatus(status);
        if (status.state === 'open') isOpen = true;
      },
    });
    following.catch(() => {});
    await waitFor(() => isOpen, 'the stream to open');
    const { build } = await client.startBuild('lines-global');
    await waitFor(() => recorder.lineNumbers.length >= 300, '300 lines');
    forgeNextId();
    server.httpServer.closeAllConnections();
    await waitFor(() => recorder.events.some((e) => e.name === 'build' && e.data.build.status === 'succeeded'), 'the build to succeed', 30000);
    controller.abort();
    await following.catch(() => {});

    expect(recorder.statuses.filter((s) => s.state === 'reset')).toHaveLength(1);
    expect(recorder.lineNumbers).toEqual(oneToN(1500));
    expect(isIncreasing(recorder.eventNumbers)).toBe(true);
    expect(recorder.rawOutput).toBe(await client.readLog(build.id, { raw: true }));
  }, 60000);
});
