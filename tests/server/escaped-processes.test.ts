import fs from 'node:fs';
import path from 'node:path';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { isAlive, killIfAlive, readPidFile } from '../helpers/processes.js';
import { postJson, request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/** The contract: a cancelled or timed-out build has ended at most 8 s after the cancel or the timeout. */
const STOP_BOUND_MS = 8000;

const systemLines = async (server: TestServer, logUrl: string) =>
  (await request(`${server.url}${logUrl}`)).text
    .split('\n')
    .filter((line) => line.includes('] [system] '))
    .map((line) => line.slice(line.indexOf('] [system] ') + 11));

describe('processes that leave the build\'s process group (setsid)', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  const daemons: (number | null)[] = [];

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CONCURRENT_BUILDS: '4' });
  });

  afterEach(() => {
    for (const pid of daemons.splice(0)) killIfAlive(pid);
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  /** Starts a build of a copy of the daemon fixture; resolves once its daemon runs. */
  async function startDaemonBuild(target: TestServer, name: string, options: Record<string, unknown>) {
    const dir = fs.existsSync(projects.project(name)) ? projects.project(name) : projects.copy('daemon', name);
    projects.configure(name, options);
    fs.rmSync(path.join(dir, 'daemon.pid'), { force: true });
    const build = await startBuild(target.url, name);
    const daemon = await waitFor(() => readPidFile(dir, 'daemon.pid'), 'the daemon to start', 20000);
    daemons.push(daemon);
    return { build, daemon, dir };
  }

  const cancel = (target: TestServer, id: string) => request(`${target.url}/api/builds/${id}/cancel`, { method: 'POST' });

  it.each(['inherit', 'ignore'])('a cancel ends the build and its daemon (stdio %s) within 8 s, with a system line naming the daemon', async (stdio) => {
    const { build, daemon } = await startDaemonBuild(server, `cancel-${stdio}`, { stdio, seconds: 60 });
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    expect(isAlive(daemon)).toBe(true);

    expect((await cancel(server, build.id)).status).toBe(202);
    const done = await waitForEnd(server.url, build.id, STOP_BOUND_MS);
    expect(done.status).toBe('cancelled');
    expect(isAlive(daemon)).toBe(false);
    expect(await systemLines(server, build.logUrl)).toContainEqual(expect.stringMatching(new RegExp(`^Ending pid ${daemon} \\(sleep 300\\)`)));
    // The project is free again.
    const again = await postJson(`${server.url}/api/project/build`, { projectPath: `cancel-${stdio}` });
    expect(again.status).toBe(202);
    await cancel(server, again.json.build.id);
    await waitForEnd(server.url, again.json.build.id, STOP_BOUND_MS);
  }, 40000);

  it.each(['inherit', 'ignore'])('a build that exits and leaves a daemon (stdio %s) takes its verdict; the daemon is ended and named', async (stdio) => {
    const say = stdio === 'inherit' ? 'the daemon speaks' : '';
    const { build, daemon } = await startDaemonBuild(server, `leaves-${stdio}`, { stdio, seconds: 0, say });
    const done = await waitForEnd(server.url, build.id, 20000);
    expect(done.status).toBe('succeeded');
    expect(done.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(isAlive(daemon)).toBe(false);
    const lines = await systemLines(server, build.logUrl);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^Ending pid ${daemon} \\(sleep 300\\), which the build step left running$`)));
    expect(lines.at(-1)).toMatch(/^Build succeeded in \d+\.\d s \(exit code 0\)$/);
    // What the daemon wrote through the step's pipes while they were still read is in the log.
    const raw = (await request(`${server.url}${build.logUrl}?raw=1`)).text;
    expect(raw.includes('the daemon speaks\n')).toBe(say !== '');
  }, 30000);

  it('a build that ends with a daemon holding its pipes frees its queue slot for the next build', async () => {
    const queueServer = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CONCURRENT_BUILDS: '1' });
    try {
      const { build } = await startDaemonBuild(queueServer, 'slot-holder', { stdio: 'inherit', seconds: 0 });
      const next = await startBuild(queueServer.url, 'failing');
      expect((await waitForEnd(queueServer.url, build.id, 20000)).status).toBe('succeeded');
      expect((await waitForEnd(queueServer.url, next.id, 20000)).status).toBe('failed');
    } finally {
      await queueServer.stop();
    }
  }, 40000);

  it('ends a stubborn daemon (it ignores SIGTERM) with SIGKILL, within 8 s of the cancel', async () => {
    const { build, daemon } = await startDaemonBuild(server, 'stubborn-daemon', { stdio: 'inherit', stubborn: true, seconds: 60 });
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    await cancel(server, build.id);
    const done = await waitForEnd(server.url, build.id, STOP_BOUND_MS);
    expect(done.status).toBe('cancelled');
    expect(isAlive(daemon)).toBe(false);
  }, 30000);

  it('ends a cancelled build within 8 s even when a process that nothing marks as its own holds its pipes', async () => {
    const { build, daemon } = await startDaemonBuild(server, 'hidden-daemon', { stdio: 'inherit', stubborn: true, hidden: true, seconds: 60 });
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    await cancel(server, build.id);
    const done = await waitForEnd(server.url, build.id, STOP_BOUND_MS);
    expect(done.status).toBe('cancelled');
    expect(isAlive(daemon)).toBe(true); // it cleared BUILDLOG_BUILD_ID and left the group: not the build's
  }, 30000);

  it('ends a build past BUILD_TIMEOUT_MS as timed_out within 8 s, its daemon ended and named', async () => {
    // Long enough for yarn install and the daemon to start on a loaded machine.
    const timeoutServer = await startTestServer({ PROJECTS_ROOT: projects.root, BUILD_TIMEOUT_MS: '8000' });
    try {
      const { build, daemon } = await startDaemonBuild(timeoutServer, 'timeout-daemon', { stdio: 'inherit', seconds: 60 });
      const running = await waitForBuild(timeoutServer.url, build.id, (b) => b.status === 'running');
      const timeoutAt = Date.parse(running.startedAt) + 8000;
      const done = await waitForEnd(timeoutServer.url, build.id, timeoutAt + STOP_BOUND_MS - Date.now());
      expect(done.status).toBe('timed_out');
      expect(isAlive(daemon)).toBe(false);
      expect(await systemLines(timeoutServer, build.logUrl)).toContainEqual(expect.stringMatching(new RegExp(`^Ending pid ${daemon} \\(sleep 300\\)`)));
    } finally {
      await timeoutServer.stop();
    }
  }, 45000);
});
