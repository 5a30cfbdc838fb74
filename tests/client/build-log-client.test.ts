import fs from 'node:fs';
import path from 'node:path';
import { BuildLogError, MAX_UNAUTHORIZED_RETRIES, createBuildLogClient, type FollowEvent, type Unauthorized } from '../../src/client/build-log-client.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';
import { Recorder, oneToN } from '../helpers/client-harness.js';

describe('createBuildLogClient against the real server', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: 500, batch: 50, delayMs: 5 });
    projects.configure('slow', { seconds: 30 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root, RETRY_MS: '100' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('starts a build once per Idempotency-Key, follows it to its end, and reads, lists and gets it', async () => {
    const client = createBuildLogClient({ server: server.url });
    const first = await client.startBuild('lines', { idempotencyKey: 'client-test-1' });
    const again = await client.startBuild('lines', { idempotencyKey: 'client-test-1' });
    expect([first.isNew, again.isNew, again.build.id]).toEqual([true, false, first.build.id]);

    const recorder = new Recorder();
    const result = await client.follow({ build: first.build.id, onEvent: recorder.onEvent, onStatus: recorder.onStatus });

    expect(result.outcome).toBe('ended');
    expect(result.build.status).toBe('succeeded');
    expect(recorder.lineNumbers).toEqual(oneToN(500));
    expect(recorder.events.at(-1)).toMatchObject({ name: 'end', data: { build: { id: first.build.id, status: 'succeeded' } } });
    expect(recorder.events.filter((e) => e.name === 'build').map((e) => (e.name === 'build' ? e.data.build.status : '')).at(-1)).toBe('succeeded');
    expect(await client.readLog(first.build.id, { raw: true })).toBe(recorder.rawOutput);
    expect(await client.readLog(first.build.id)).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] \[system\] \$ yarn install$/m);
    expect((await client.listBuilds({ limit: 5 })).map((b) => b.id)).toContain(first.build.id);
    expect((await client.getBuild(first.build.id)).status).toBe('succeeded');
    expect((await client.workers()).length).toBe(1);
  });

  it('gets 204 for a stream resumed from its end event, and returns the build as it ended', async () => {
    const client = createBuildLogClient({ server: server.url });
    const { build } = await client.startBuild('failing');
    const first = await client.follow({ build: build.id, onEvent: () => {} });
    const recorder = new Recorder();
    const second = await client.follow({ build: build.id, lastEventId: first.lastEventId, onEvent: recorder.onEvent });
    expect(second.outcome).toBe('no_content');
    expect(second.build.status).toBe('failed');
    expect(recorder.events).toEqual([]);
  });

  it('stops following when its AbortSignal is aborted, rejecting with the reason; cancel ends the build', async () => {
    const client = createBuildLogClient({ server: server.url });
    const { build } = await client.startBuild('slow');
    const controller = new AbortController();
    const recorder = new Recorder();
    const following = client.follow({ build: build.id, signal: controller.signal, onEvent: recorder.onEvent });
    await waitFor(() => recorder.lines.some((line) => line.text === 'tick 3'), 'tick 3');
    const reason = new Error('stopped by the test');
    controller.abort(reason);
    await expect(following).rejects.toBe(reason);

    expect((await client.cancelBuild(build.id)).wasRunning).toBe(true);
    const ended = await client.follow({ build: build.id, onEvent: () => {} });
    expect(ended.build.status).toBe('cancelled');
    const late = await client.cancelBuild(build.id);
    expect([late.wasRunning, late.build.status]).toEqual([false, 'cancelled']);
  }, 30000);

  it('follows every build on the global stream until aborted', async () => {
    const client = createBuildLogClient({ server: server.url });
    const controller = new AbortController();
    const events: FollowEvent[] = [];
    let isOpen = false;
    const following = client.follow({
      signal: controller.signal,
      onEvent: (event) => void events.push(event),
      onStatus: (status) => {
        if (status.state === 'open') isOpen = true;
      },
    });
    following.catch(() => {});
    await waitFor(() => isOpen, 'the stream to open');
    const { build } = await client.startBuild('failing');
    await waitFor(() => events.some((e) => e.name === 'build' && e.data.build.id === build.id && e.data.build.status === 'failed'), 'the failed build');
    controller.abort();
    await expect(following).rejects.toMatchObject({ name: 'AbortError' });
    expect(events.some((e) => e.name === 'log' && e.data.build === build.id && e.data.text === 'compiling...')).toBe(true);
  });

  it('throws BuildLogError with the contract\'s status and code', async () => {
    const client = createBuildLogClient({ server: server.url });
    await expect(client.getBuild('000000000zzzzzz')).rejects.toMatchObject({ status: 404, code: 'build_not_found' });
    await expect(client.follow({ build: '000000000zzzzzz', onEvent: () => {} })).rejects.toMatchObject({ status: 404, code: 'build_not_found' });
    await expect(client.startBuild('nobuild')).rejects.toMatchObject({ status: 400, code: 'not_a_project' });
    const busy = await client.startBuild('slow');
    const refused = await client.startBuild('slow').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(BuildLogError);
    expect(refused).toMatchObject({ status: 409, code: 'already_building', build: { id: busy.build.id } });
    await client.cancelBuild(busy.build.id);
  });

  it('sends the token, and reports 401 unauthorized without it', async () => {
    const guarded = await startTestServer({ PROJECTS_ROOT: projects.root, AUTH_TOKEN: 'sekret-token-123' });
    try {
      await expect(createBuildLogClient({ server: guarded.url }).listBuilds()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
      await expect(createBuildLogClient({ server: guarded.url }).follow({ onEvent: () => {} })).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
      const client = createBuildLogClient({ server: `${guarded.url}/`, token: 'sekret-token-123' });
      const { build } = await client.startBuild('failing');
      expect((await client.follow({ build: build.id, onEvent: () => {} })).build.status).toBe('failed');
    } finally {
      await guarded.stop();
    }
  });

  it('lists the projects, and reads a log as a Blob byte for byte', async () => {
    const client = createBuildLogClient({ server: server.url });
    expect((await client.listProjects()).map((project) => project.name)).toEqual(expect.arrayContaining(['failing', 'lines', 'slow']));
    const { build } = await client.startBuild('failing');
    await client.follow({ build: build.id, onEvent: () => {} });
    const blob = await client.readLogBlob(build.id, { raw: true });
    const raw = await (await fetch(`${server.url}/api/builds/${build.id}/log?raw=1`)).arrayBuffer();
    expect(Buffer.from(await blob.arrayBuffer()).equals(Buffer.from(raw))).toBe(true);
    expect(blob.size).toBeGreaterThan(0);
    await expect(client.readLogBlob('000000000zzzzzz')).rejects.toMatchObject({ status: 404, code: 'build_not_found' });
  });

  describe('with onUnauthorized, against a server that needs a token', () => {
    const TOKEN = 'sekret-token-456';
    let guarded: TestServer;

    beforeAll(async () => {
      guarded = await startTestServer({ PROJECTS_ROOT: projects.root, AUTH_TOKEN: TOKEN, RETRY_MS: '100' });
    });

    afterAll(async () => {
      await guarded?.stop();
    });

    it('reads the token function anew for the try after each 401, telling the hook whether a token was sent', async () => {
      let token: string | null = null;
      const refusals: boolean[] = [];
      const client = createBuildLogClient({
        server: guarded.url,
        token: () => token,
        onUnauthorized: ({ wasTokenSent }) => {
          refusals.push(wasTokenSent);
          token = wasTokenSent ? TOKEN : 'wrong';
          return true;
        },
      });
      expect((await client.listProjects()).map((project) => project.name)).toContain('failing');
      expect(refusals).toEqual([false, true]);

      token = null;
      const recorder = new Recorder();
      const { build } = await client.startBuild('failing');
      token = null;
      const result = await client.follow({ build: build.id, onEvent: recorder.onEvent, onStatus: recorder.onStatus });
      expect(result.build.status).toBe('failed');
      expect(refusals).toEqual([false, true, false, true, false, true]);
      expect(recorder.statuses.filter((status) => status.state === 'unauthorized')).toEqual([
        { state: 'unauthorized', wasTokenSent: false },
        { state: 'unauthorized', wasTokenSent: true },
      ]);
      expect(recorder.stdout).toContain('compiling...\n');
    });

    it(`gives up with the 401 after ${MAX_UNAUTHORIZED_RETRIES} tries in a row, or at once when the hook says no`, async () => {
      let asked = 0;
      const stubborn = createBuildLogClient({ server: guarded.url, token: 'wrong', onUnauthorized: () => ((asked += 1), true) });
      await expect(stubborn.listBuilds()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
      expect(asked).toBe(MAX_UNAUTHORIZED_RETRIES);
      asked = 0;
      await expect(stubborn.follow({ onEvent: () => {} })).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
      expect(asked).toBe(MAX_UNAUTHORIZED_RETRIES);

      const refusals: Unauthorized[] = [];
      const declining = createBuildLogClient({ server: guarded.url, onUnauthorized: async (refusal) => (refusals.push(refusal), false) });
      await expect(declining.follow({ onEvent: () => {} })).rejects.toBeInstanceOf(BuildLogError);
      expect(refusals.map((refusal) => refusal.wasTokenSent)).toEqual([false]);
    });

    it('keeps its place in a follow across a 401 in the middle: every line once', async () => {
      let isStripping = false;
      let asked = 0;
      // A proxy that loses the header once, on the connection after a cut.
      const stripOnce: typeof fetch = (input, init) => {
        if (!isStripping || !String(input).includes('/api/log/push')) return fetch(input, init);
        isStripping = false;
        const { Authorization: _dropped, ...headers } = init!.headers as Record<string, string>;
        return fetch(input, { ...init, headers });
      };
      const client = createBuildLogClient({ server: guarded.url, token: TOKEN, fetch: stripOnce, onUnauthorized: () => ((asked += 1), true) });
      const { build } = await client.startBuild('lines');
      const recorder = new Recorder();
      const following = client.follow({ build: build.id, onEvent: recorder.onEvent, onStatus: recorder.onStatus });
      await waitFor(() => recorder.lineNumbers.length >= 100, '100 lines');
      isStripping = true;
      guarded.httpServer.closeAllConnections();
      const result = await following;

      expect(result.build.status).toBe('succeeded');
      expect(asked).toBe(1);
      expect(recorder.statuses.map((status) => status.state)).toContain('unauthorized');
      expect(recorder.lineNumbers).toEqual(oneToN(500));
    });

    it('stops waiting for the hook when the follow is aborted, rejecting with the reason', async () => {
      let refusal: Unauthorized | undefined;
      const client = createBuildLogClient({
        server: guarded.url,
        onUnauthorized: (given) => {
          refusal = given;
          return new Promise<boolean>(() => {});
        },
      });
      const controller = new AbortController();
      const following = client.follow({ signal: controller.signal, onEvent: () => {} });
      await waitFor(() => refusal, 'the hook to be asked');
      const reason = new Error('the page went away');
      controller.abort(reason);
      await expect(following).rejects.toBe(reason);
      expect(refusal!.signal?.aborted).toBe(true);
    });
  });

  it('is served as GET /client.js, the compiled module with no imports', async () => {
    const response = await fetch(`${server.url}/client.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/javascript; charset=utf-8');
    const text = await response.text();
    expect(text).toBe(fs.readFileSync(path.join(process.cwd(), 'dist', 'client', 'build-log-client.js'), 'utf8'));
    expect(text).toMatch(/export function createBuildLogClient/);
    expect(text).not.toMatch(/^\s*import\s/m);
  });
});
