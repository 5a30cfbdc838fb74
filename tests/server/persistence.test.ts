import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newBuild } from '../../src/builds/build-record.js';
import { switchableDisk } from '../helpers/full-disk.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { postJson, request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

async function readToEnd(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const reader = new SseReader(url, headers);
  await reader.closed;
  return reader;
}

describe('builds kept across a restart', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  let first: TestServer;
  let second: TestServer | undefined;
  const before: Record<string, { build: { id: string; streamUrl: string; logUrl: string }; log: string; raw: string; ids: string[] }> = {};
  let listBefore: unknown;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('lines', { count: 3000 });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-persist-'));
    first = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
    for (const name of ['failing', 'lines']) {
      const build = await startBuild(first.url, name, name === 'failing' ? { 'Idempotency-Key': 'deploy-42' } : {});
      await waitForEnd(first.url, build.id);
      before[name] = {
        build,
        log: (await request(`${first.url}${build.logUrl}`)).text,
        raw: (await request(`${first.url}${build.logUrl}?raw=1`)).text,
        ids: (await readToEnd(`${first.url}${build.streamUrl}`)).events.map((e) => e.id!),
      };
    }
    listBefore = (await request(`${first.url}/api/builds`)).json;
    await first.stop();
    second = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
  }, 60000);

  afterAll(async () => {
    await second?.stop();
    projects?.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists the same builds, newest first, with the same records', async () => {
    expect((await request(`${second!.url}/api/builds`)).json).toEqual(listBefore);
    const failing = (await request(`${second!.url}/api/builds/${before.failing!.build.id}`)).json;
    expect(failing).toMatchObject({ status: 'failed', exitCode: 3 });
  });

  it('serves the same logs, text and raw', async () => {
    for (const { build, log, raw } of Object.values(before)) {
      expect((await request(`${second!.url}${build.logUrl}`)).text).toBe(log);
      expect((await request(`${second!.url}${build.logUrl}?raw=1`)).text).toBe(raw);
    }
  });

  it('replays each build whole over ?build= with the same ids, then ends it', async () => {
    for (const { build, ids } of Object.values(before)) {
      const replay = await readToEnd(`${second!.url}${build.streamUrl}`);
      expect(replay.events.map((e) => e.id)).toEqual(ids);
      expect(replay.events.at(-1)!.event).toBe('end');
    }
  });

  it('resumes a ?build= stream from an id given before the restart', async () => {
    const { build, ids } = before.lines!;
    const resumed = await readToEnd(`${second!.url}${build.streamUrl}`, { 'Last-Event-ID': ids[1000]! });
    expect(resumed.events.map((e) => e.id)).toEqual(ids.slice(1001));
    const done = await fetch(`${second!.url}${build.streamUrl}`, { headers: { 'Last-Event-ID': ids.at(-1)! } });
    expect(done.status).toBe(204);
  });

  it('remembers Idempotency-Keys across the restart', async () => {
    const again = await postJson(`${second!.url}/api/project/build`, { projectPath: 'failing' }, { 'Idempotency-Key': 'deploy-42' });
    expect(again.status).toBe(200);
    expect(again.json.build.id).toBe(before.failing!.build.id);
  });

  it('tells a global stream client from before the restart to reset', async () => {
    const reader = new SseReader(`${second!.url}/api/log/push`, { 'Last-Event-ID': before.lines!.ids[5]! });
    await reader.waitFor((r) => r.events.length >= 1, 'reset');
    reader.close();
    expect(reader.events[0]!.event).toBe('reset');
  });

  it('starts new builds whose streams work as before', async () => {
    const build = await startBuild(second!.url, 'failing');
    const stream = await readToEnd(`${second!.url}${build.streamUrl}`);
    expect(stream.events.at(-1)!.json.build).toMatchObject({ id: build.id, status: 'failed' });
  });
});

describe('start-up recovery', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  let server: TestServer | undefined;

  beforeEach(() => {
    projects = makeProjectsRoot();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-recover-'));
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    projects.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs a build to its end, then makes its files look as if the server had died during it. */
  async function crashedBuild(): Promise<{ id: string; streamUrl: string; logUrl: string; keptLines: string[] }> {
    const first = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
    const build = await startBuild(first.url, 'failing');
    await waitForEnd(first.url, build.id);
    await first.stop();

    const dir = path.join(dataDir, 'builds', build.id);
    const record = JSON.parse(fs.readFileSync(path.join(dir, 'build.json'), 'utf8'));
    record.build.status = 'running';
    record.build.steps[1].status = 'running';
    record.build.steps[1].exitCode = null;
    record.build.finishedAt = null;
    fs.writeFileSync(path.join(dir, 'build.json'), JSON.stringify(record));
    // Cut the history in the middle of the frame after the build step's first output line.
    const history = fs.readFileSync(path.join(dir, 'events.sse'), 'utf8');
    const cutAt = history.indexOf('compiling...');
    const frameEnd = history.indexOf('\n\n', cutAt) + 2;
    fs.writeFileSync(path.join(dir, 'events.sse'), history.slice(0, frameEnd + 20));
    const keptLines = history
      .slice(0, frameEnd)
      .split('\n')
      .filter((l) => l.startsWith('data: ') && l.includes('"text"'))
      .map((l) => JSON.parse(l.slice(6)).text);
    return { ...build, keptLines };
  }

  it('marks a build found running as interrupted, keeping its log readable and replayable', async () => {
    const build = await crashedBuild();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });

    const record = (await request(`${server.url}/api/builds/${build.id}`)).json;
    expect(record.status).toBe('interrupted');
    expect(record.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'interrupted']);
    expect(record.finishedAt).not.toBeNull();

    const replay = await readToEnd(`${server.url}${build.streamUrl}`);
    const texts = replay.named('log').map((e) => e.json.text);
    expect(texts.slice(0, build.keptLines.length)).toEqual(build.keptLines);
    expect(texts.at(-1)).toBe('Build interrupted: the server stopped while it was running');
    expect(replay.events.slice(-2).map((e) => e.event)).toEqual(['build', 'end']);
    expect(replay.events.at(-1)!.json.build.status).toBe('interrupted');
    // Ids stay in sequence across the repair, so a reconnect after the end gets 204.
    const done = await fetch(`${server.url}${build.streamUrl}`, { headers: { 'Last-Event-ID': replay.events.at(-1)!.id! } });
    expect(done.status).toBe(204);

    const log = (await request(`${server.url}${build.logUrl}`)).text;
    expect(log).toContain('] compiling...\n');
    expect(log.trimEnd().split('\n').at(-1)).toMatch(/\[system\] Build interrupted/);
  });

  it('reports and skips a corrupt record instead of failing to start', async () => {
    const bad = path.join(dataDir, 'builds', '0000000000abcdef');
    fs.mkdirSync(bad, { recursive: true });
    fs.writeFileSync(path.join(bad, 'build.json'), '{ not json');
    const good = await crashedBuild();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
    const list = (await request(`${server.url}/api/builds`)).json.builds.map((b: { id: string }) => b.id);
    expect(list).toEqual([good.id]);
  });
});

describe('after a full disk and a restart', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  const servers: TestServer[] = [];

  beforeAll(() => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 60 });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-full-'));
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    projects?.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const storedStatus = (id: string) => JSON.parse(fs.readFileSync(path.join(dataDir, 'builds', id, 'build.json'), 'utf8')).build.status;

  it('every build shows the status it ended with, and a build accepted while the disk was full is listed', async () => {
    const disk = switchableDisk();
    const first = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir }, { historyFileSystem: disk.history, recordFileSystem: disk.records });
    servers.push(first);
    const running = await startBuild(first.url, 'slow');
    await waitForBuild(first.url, running.id, (b) => b.steps[1].status === 'running');
    disk.fill();
    const accepted = await startBuild(first.url, 'failing');
    expect((await waitForEnd(first.url, running.id)).status).toBe('failed');
    expect((await waitForEnd(first.url, accepted.id)).status).toBe('failed');
    expect(fs.existsSync(path.join(dataDir, 'builds', accepted.id, 'build.json'))).toBe(false);

    // Once the disk has room, the next record written takes the refused ones along.
    disk.free();
    const after = await startBuild(first.url, 'printenv');
    await waitForEnd(first.url, after.id);
    expect([storedStatus(running.id), storedStatus(accepted.id)]).toEqual(['failed', 'failed']);
    await first.stop();

    const second = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
    servers.push(second);
    const listed = (await request(`${second.url}/api/builds`)).json.builds.map((b: { id: string; status: string }) => [b.id, b.status]);
    expect(listed).toEqual([
      [after.id, 'succeeded'],
      [accepted.id, 'failed'],
      [running.id, 'failed'],
    ]);
    for (const build of [running, accepted]) {
      const replay = await readToEnd(`${second.url}${build.streamUrl}`);
      expect(replay.events.at(-1)).toMatchObject({ event: 'end', json: { build: { id: build.id, status: 'failed' } } });
    }
  }, 60000);

  it('a record refused until the shutdown is written then, if the disk has room by then', async () => {
    const disk = switchableDisk();
    const first = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir }, { historyFileSystem: disk.history, recordFileSystem: disk.records });
    servers.push(first);
    disk.fill();
    const accepted = await startBuild(first.url, 'failing');
    expect((await waitForEnd(first.url, accepted.id)).status).toBe('failed');
    disk.free();
    await first.stop();
    expect(storedStatus(accepted.id)).toBe('failed');
  });
});

describe('listing many builds', () => {
  let dataDir: string;
  let server: TestServer | undefined;

  beforeAll(async () => {
    // 501 finished builds as a previous server would have left them (their histories get `end` at start).
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-many-'));
    for (let i = 0; i < 501; i += 1) {
      const id = `0000${String(i).padStart(8, '0')}`;
      const build = { ...newBuild(id, '/nowhere', new Date(Date.UTC(2026, 0, 1) + i * 1000)), status: 'succeeded' };
      fs.mkdirSync(path.join(dataDir, 'builds', id), { recursive: true });
      fs.writeFileSync(path.join(dataDir, 'builds', id, 'build.json'), JSON.stringify({ build, idempotencyKey: null }));
    }
    // Kept whatever their age and number: this is about listing, not retention.
    server = await startTestServer({ DATA_DIR: dataDir, KEEP_BUILDS: '0', KEEP_DAYS: '0' });
  }, 60000);

  afterAll(async () => {
    await server?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists 50 by default, newest first, and never more than 500', async () => {
    const count = async (query: string) => (await request(`${server!.url}/api/builds${query}`)).json.builds.length;
    expect(await count('')).toBe(50);
    expect(await count('?limit=500')).toBe(500);
    expect(await count('?limit=501')).toBe(500);
    expect(await count('?limit=100000')).toBe(500);
    expect((await request(`${server!.url}/api/builds?limit=1`)).json.builds[0].id).toBe('000000000500');
  });
});
