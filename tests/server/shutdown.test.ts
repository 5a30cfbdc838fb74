import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../../src/paths.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { isAlive, killIfAlive, readGrandchildPid, readPidFile } from '../helpers/processes.js';
import { request, startBuild, waitForBuild } from '../helpers/http.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/** The contract: a stopped server has exited 0 within 10 s of the signal. */
const SHUTDOWN_LIMIT_MS = 10000;

describe('the server process', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  const started: ServerProcess[] = [];

  beforeEach(() => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 60 });
    projects.copy('slow', 'stubborn');
    projects.configure('stubborn', { seconds: 60, stubborn: true });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-process-'));
  });

  afterEach(() => {
    killIfAlive(readPidFile(projects.project('daemon'), 'daemon.pid'));
    for (const server of started.splice(0)) server.killAll();
    projects.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function spawn(env: Record<string, string> = {}, viaNpm = false): Promise<ServerProcess> {
    const server = await spawnServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir, MAX_CONCURRENT_BUILDS: '1', ...env }, { viaNpm });
    started.push(server);
    return server;
  }

  it('on SIGTERM: ends every stream with its final events, kills and records running builds, and exits 0 within 10 s', async () => {
    const server = await spawn();
    const global = new SseReader(`${server.url}/api/log/push`);
    await global.connected;
    const running = await startBuild(server.url, 'stubborn');
    const queued = await startBuild(server.url, 'failing');
    const buildStream = new SseReader(`${server.url}${running.streamUrl}`);
    const grandchild = await waitFor(() => readGrandchildPid(projects.project('stubborn')), 'the grandchild to start');
    await buildStream.waitFor((r) => r.named('log').some((e) => e.json.text === 'tick 3'), 'some output');

    const signalledAt = Date.now();
    process.kill(server.serverPid, 'SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_LIMIT_MS);
    await Promise.all([buildStream.closed, global.closed]);

    expect(isAlive(grandchild)).toBe(false); // it ignored SIGTERM: the group got SIGKILL
    expect(buildStream.closedBy).toBe('server');
    expect(buildStream.events.slice(-2).map((e) => [e.event, e.json.build.status])).toEqual([
      ['build', 'interrupted'],
      ['end', 'interrupted'],
    ]);
    const finalStatuses = global.named('build').filter((e) => e.json.build.status === 'interrupted').map((e) => e.json.build.id);
    expect(finalStatuses.sort()).toEqual([running.id, queued.id].sort());
    expect(global.closedBy).toBe('server');

    // Everything was on disk: a new server shows the same builds, logs and streams.
    const again = await spawn();
    const records = (await request(`${again.url}/api/builds`)).json.builds;
    expect(records.map((b: { id: string; status: string }) => [b.id, b.status])).toEqual([
      [queued.id, 'interrupted'],
      [running.id, 'interrupted'],
    ]);
    const replay = new SseReader(`${again.url}${running.streamUrl}`);
    await replay.closed;
    expect(replay.events.map((e) => e.id)).toEqual(buildStream.events.map((e) => e.id));
    const log = (await request(`${again.url}${running.logUrl}`)).text;
    expect(log).toContain('] tick 3\n');
    expect(log.trimEnd().split('\n').at(-1)).toMatch(/\[system\] Build interrupted after .*: the server is shutting down$/);
    const done = await fetch(`${again.url}${running.streamUrl}`, { headers: { 'Last-Event-ID': replay.events.at(-1)!.id! } });
    expect(done.status).toBe(204);
  }, 60000);

  it('on SIGINT under `npm start`: the signal reaches the server, which exits 0', async () => {
    const server = await spawn({}, true);
    expect(server.serverPid).not.toBe(server.child.pid); // npm runs node, which listens
    process.kill(server.serverPid, 'SIGINT');
    const exit = await server.exited; // npm exits when the server does, with its status
    expect(exit.code).toBe(0);
    expect(server.output()).toMatch(/"msg":"stopped"/);
  }, 60000);

  it('after a crash (kill -9): the build is marked interrupted and what it left running is ended', async () => {
    const server = await spawn();
    const build = await startBuild(server.url, 'slow');
    const grandchild = await waitFor(() => readGrandchildPid(projects.project('slow')), 'the grandchild to start');
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    process.kill(server.serverPid, 'SIGKILL');
    await server.exited;
    expect(isAlive(grandchild)).toBe(true); // orphaned, still running

    const again = await spawn();
    expect((await request(`${again.url}/api/builds/${build.id}`)).json.status).toBe('interrupted');
    await waitFor(() => !isAlive(grandchild), 'the orphaned processes to be ended', 5000);
    const replay = new SseReader(`${again.url}${build.streamUrl}`);
    await replay.closed;
    expect(replay.events.at(-1)).toMatchObject({ event: 'end', json: { build: { status: 'interrupted' } } });
  }, 60000);

  it.each([
    ['MAX_CLIENTS', 'abc', 'MAX_CLIENTS must be a positive integer, got "abc"'],
    ['PORT', '-1', 'PORT must be a non-negative integer, got "-1"'],
    ['PROJECTS_ROOT', '/nope', 'PROJECTS_ROOT folder does not exist: "/nope"'],
  ])('refuses to start with %s=%s: one line naming it, exit code 2, no stack trace', (name, value, message) => {
    const result = spawnSync(process.execPath, ['dist/main.js'], { cwd: repoRoot, env: { PATH: process.env.PATH, [name]: value }, encoding: 'utf8' });
    expect([result.status, result.stdout + result.stderr]).toEqual([2, `build-log-server: ${message}\n`]);
  });

  it('on SIGTERM with a build whose daemon left its process group: ends both and exits 0 within 10 s', async () => {
    projects.configure('daemon', { stdio: 'inherit', seconds: 60 });
    const server = await spawn();
    const build = await startBuild(server.url, 'daemon');
    const daemon = await waitFor(() => readPidFile(projects.project('daemon'), 'daemon.pid'), 'the daemon to start', 20000);
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');

    const signalledAt = Date.now();
    process.kill(server.serverPid, 'SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_LIMIT_MS);
    expect(isAlive(daemon)).toBe(false);
    const again = await spawn();
    expect((await request(`${again.url}/api/builds/${build.id}`)).json.status).toBe('interrupted');
  }, 60000);

  it('after a crash (kill -9): a daemon that left the build\'s process group is found by BUILDLOG_BUILD_ID and ended', async () => {
    projects.configure('daemon', { stdio: 'ignore', seconds: 60 });
    const server = await spawn();
    const build = await startBuild(server.url, 'daemon');
    const daemon = await waitFor(() => readPidFile(projects.project('daemon'), 'daemon.pid'), 'the daemon to start', 20000);
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    process.kill(server.serverPid, 'SIGKILL');
    await server.exited;
    expect(isAlive(daemon)).toBe(true);

    const again = await spawn();
    expect((await request(`${again.url}/api/builds/${build.id}`)).json.status).toBe('interrupted');
    await waitFor(() => !isAlive(daemon), 'the daemon to be ended', 5000);
  }, 60000);

  it('in-process too, a build POSTed while it shuts down gets 503 shutting_down', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root });
    const build = await startBuild(server.url, 'slow');
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    // A request whose headers arrived before the shutdown (new connections are refused then),
    // and whose body comes after it began.
    const body = JSON.stringify({ projectPath: 'failing' });
    const arrived = new Promise((resolve) => server.httpServer.once('request', resolve));
    const post = http.request(`${server.url}/api/project/build`, {
      method: 'POST',
      agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      post.on('response', (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body: text }));
      });
      post.on('error', reject);
    });
    post.flushHeaders();
    await arrived;
    const stopping = server.stop();
    post.end(body);
    const during = await answered;
    await stopping;
    expect(during.status).toBe(503);
    expect(JSON.parse(during.body).error.code).toBe('shutting_down');
  });
});
