import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { diskThatFillsAfter } from '../helpers/full-disk.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { readProcessTable } from '../../src/builds/process-table.js';
import { isAlive, readGrandchildPid, readPidFile } from '../helpers/processes.js';
import { postJson, request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

const cancel = (server: TestServer, id: string) => request(`${server.url}/api/builds/${id}/cancel`, { method: 'POST' });
const systemLines = async (server: TestServer, logUrl: string) =>
  (await request(`${server.url}${logUrl}`)).text
    .split('\n')
    .filter((line) => line.includes('] [system] '))
    .map((line) => line.slice(line.indexOf('] [system] ') + 11));

describe('stopping builds', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 60 });
    projects.copy('slow', 'stubborn');
    projects.configure('stubborn', { seconds: 60, stubborn: true });
    server = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CONCURRENT_BUILDS: '4' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('cancels a running build: its whole process tree dies, it ends cancelled, and its streams get end', async () => {
    const build = await startBuild(server.url, 'slow');
    const stream = new SseReader(`${server.url}${build.streamUrl}`);
    const grandchild = await waitFor(() => readGrandchildPid(projects.project('slow')), 'the grandchild to start');
    await stream.waitFor((r) => r.named('log').some((e) => e.json.text === 'tick 2'), 'some output');

    const response = await cancel(server, build.id);
    expect(response.status).toBe(202);
    expect(response.json.build.id).toBe(build.id);
    const done = await waitForEnd(server.url, build.id);
    await stream.closed;

    expect(isAlive(grandchild)).toBe(false);
    expect(done.status).toBe('cancelled');
    expect(done.steps.map((s: { status: string }) => s.status)).toEqual(['succeeded', 'cancelled']);
    expect(stream.events.at(-1)).toMatchObject({ event: 'end', json: { build: { status: 'cancelled' } } });
    const lines = await systemLines(server, build.logUrl);
    expect(lines.at(-2)).toBe('Stopping the build (cancel requested): ending all of its processes');
    // yarn reports its group's SIGTERM as exit code 1; the build says what the process said.
    expect(lines.at(-1)).toMatch(/^Build cancelled after \d+\.\d s \(exit code \d+\): cancel requested$/);
    expect(done.exitCode).toBe(done.steps[1].exitCode);
  });

  it('kills a grandchild that ignores SIGTERM with SIGKILL 5 s later, before the build is over', async () => {
    const build = await startBuild(server.url, 'stubborn');
    const grandchild = await waitFor(() => readGrandchildPid(projects.project('stubborn')), 'the grandchild to start');
    // The grandchild writes its pid only once its SIGTERM handler is in place.
    await waitForBuild(server.url, build.id, (b) => b.steps[1].status === 'running');
    const cancelledAt = Date.now();
    await cancel(server, build.id);
    await sleep(1500);
    expect(isAlive(grandchild)).toBe(true); // SIGTERM was ignored...
    expect((await request(`${server.url}/api/builds/${build.id}`)).json.status).toBe('running');
    const done = await waitForEnd(server.url, build.id, 15000);
    expect(isAlive(grandchild)).toBe(false); // ...SIGKILL was not
    expect(done.status).toBe('cancelled');
    expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(4500);
  }, 30000);

  it('cancels a queued build at once: it leaves the queue and the next one starts', async () => {
    const queueServer = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CONCURRENT_BUILDS: '1', MAX_QUEUED_BUILDS: '2' });
    try {
      const running = await startBuild(queueServer.url, 'slow');
      const second = await startBuild(queueServer.url, 'failing');
      const third = await startBuild(queueServer.url, 'printenv');
      const statuses = (await request(`${queueServer.url}/api/builds`)).json.builds.map((b: { id: string; status: string }) => [b.id, b.status]);
      expect(statuses).toEqual([
        [third.id, 'queued'],
        [second.id, 'queued'],
        [running.id, 'running'],
      ]);
      expect((await postJson(`${queueServer.url}/api/project/build`, { projectPath: 'tricky' })).status).toBe(429);

      const cancelled = await cancel(queueServer, second.id);
      expect(cancelled.json.build).toMatchObject({ status: 'cancelled', exitCode: null, durationMs: null, startedAt: null });
      const replay = new SseReader(`${queueServer.url}${second.streamUrl}`);
      await replay.closed;
      expect(replay.events.map((e) => e.event)).toEqual(['build', 'log', 'build', 'end']);
      expect(replay.named('log')[0]!.json.text).toBe('Build cancelled before it started: cancel requested');

      // Its place in the queue is free again.
      const another = await postJson(`${queueServer.url}/api/project/build`, { projectPath: 'tricky' });
      expect(another.status).toBe(202);
      await cancel(queueServer, running.id);
      await waitForBuild(queueServer.url, third.id, (b) => b.status !== 'queued');
      expect((await waitForEnd(queueServer.url, third.id)).status).toBe('succeeded');
      await waitForEnd(queueServer.url, another.json.build.id);
    } finally {
      await queueServer.stop();
    }
  }, 30000);

  it('ends a build that runs past BUILD_TIMEOUT_MS as timed_out, with its tree killed', async () => {
    // Long enough for yarn install and the grandchild to start on a loaded machine.
    const timeoutServer = await startTestServer({ PROJECTS_ROOT: projects.root, BUILD_TIMEOUT_MS: '8000' });
    try {
      fs.rmSync(path.join(projects.project('slow'), 'grandchild.pid'), { force: true });
      const build = await startBuild(timeoutServer.url, 'slow');
      const stream = new SseReader(`${timeoutServer.url}${build.streamUrl}`);
      const grandchild = await waitFor(() => readGrandchildPid(projects.project('slow')), 'the grandchild to start', 8000);
      const done = await waitForEnd(timeoutServer.url, build.id, 20000);
      await stream.closed;
      expect(done.status).toBe('timed_out');
      expect(isAlive(grandchild)).toBe(false);
      expect(stream.events.at(-1)!.event).toBe('end');
      const lines = await systemLines(timeoutServer, build.logUrl);
      expect(lines.at(-2)).toBe('Stopping the build (it ran longer than BUILD_TIMEOUT_MS (8.0 s)): ending all of its processes');
      expect(lines.at(-1)).toMatch(/^Build timed out after \d+\.\d s \(exit code \d+\): it ran longer than BUILD_TIMEOUT_MS \(8\.0 s\)$/);
    } finally {
      await timeoutServer.stop();
    }
  }, 45000);
});

describe('a cancel racing the end of a build', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.copy('failing', 'quick');
    projects.configure('quick', { exitCode: 0 });
    projects.copy('daemon', 'lingering');
    projects.configure('lingering', { stdio: 'inherit', seconds: 0 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  /** Status, exit code and verdict line agree, and a cancel that got 202 is the one that decided. */
  function expectConsistent(build: { status: string; exitCode: number | null; steps: { status: string; exitCode: number | null; finishedAt: string | null }[] }, verdict: string, cancelStatus: number): void {
    expect(verdict.startsWith(`Build ${build.status.replace('_', ' ')} `)).toBe(true);
    const verdictCode = /\(exit code (\d+)\)/.exec(verdict)?.[1];
    expect(verdictCode === undefined ? null : Number(verdictCode)).toBe(build.exitCode);
    expect(build.exitCode).toBe(build.steps.filter((s) => s.finishedAt !== null).at(-1)?.exitCode ?? null);
    if (cancelStatus === 409) {
      expect([build.status, build.steps.map((s) => s.status)]).toEqual(['succeeded', ['succeeded', 'succeeded']]);
    } else {
      expect(cancelStatus).toBe(202);
      expect(build.status).toBe('cancelled');
      expect(build.steps.every((s) => s.status === 'succeeded')).toBe(false);
    }
  }

  it('never ends cancelled with every step succeeded: status, exit code and verdict agree (20 tries around the end)', async () => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const build = await startBuild(server.url, 'quick');
      const stream = new SseReader(`${server.url}${build.streamUrl}`);
      // Half the tries cancel as the build step prints, half as it is reported over.
      const isLate = attempt % 2 === 1;
      await stream.waitFor(
        (r) =>
          isLate
            ? r.named('build').some((e) => e.json.build.steps[1].finishedAt !== null)
            : r.named('log').some((e) => e.json.step === 'build' && e.json.text === 'compiling...'),
        'the end of the build step',
      );
      await sleep(Math.floor(attempt / 2) * 3);
      const cancelled = await cancel(server, build.id);
      await stream.closed;
      const done = await waitForEnd(server.url, build.id);
      const verdict = stream.named('log').at(-1)!.json.text as string;
      expectConsistent(done, verdict, cancelled.status);
    }
  }, 240000);

  it('answers 409 not_running to a cancel after the last step exited, and the build ends as its steps decided', async () => {
    // The build step exits at once, but its daemon holds its output pipes: the build is not over yet.
    const build = await startBuild(server.url, 'lingering');
    const stream = new SseReader(`${server.url}${build.streamUrl}`);
    await stream.waitFor((r) => r.named('log').some((e) => e.json.step === 'build' && e.json.text === 'daemon started'), 'the daemon to start');
    const daemon = readPidFile(projects.project('lingering'), 'daemon.pid');
    await waitFor(() => {
      const left = readProcessTable()!.filter((p) => p.buildId === build.id && !p.isZombie).map((p) => p.pid);
      return left.length === 1 && left[0] === daemon;
    }, 'every process of the build step but its daemon to exit');
    expect((await request(`${server.url}/api/builds/${build.id}`)).json.status).toBe('running');
    const cancelled = await cancel(server, build.id);
    expect([cancelled.status, cancelled.json.error.code]).toEqual([409, 'not_running']);
    await stream.closed;
    const done = await waitForEnd(server.url, build.id);
    expectConsistent(done, stream.named('log').at(-1)!.json.text, 409);
    expect((await cancel(server, build.id)).status).toBe(409);
  }, 30000);
});

describe('faults become failed builds with a clear system line, never a crash', () => {
  let projects: ProjectsRoot;

  beforeAll(() => {
    projects = makeProjectsRoot();
  });

  afterAll(() => projects?.remove());

  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });

  async function buildWith(env: Record<string, string>, project: string, options = {}): Promise<{ build: { id: string; logUrl: string; status: string }; lines: string[]; server: TestServer }> {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, ...env }, options);
    servers.push(server);
    const started = await startBuild(server.url, project);
    const build = await waitForEnd(server.url, started.id);
    return { build, lines: await systemLines(server, started.logUrl), server };
  }

  it('yarn missing', async () => {
    const { build, lines, server } = await buildWith({ YARN_BIN: '/nonexistent/yarn' }, 'failing');
    expect(build.status).toBe('failed');
    expect(lines).toContain('Could not run yarn install: /nonexistent/yarn does not exist (set YARN_BIN to a yarn executable)');
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
  });

  it('yarn not executable', async () => {
    const notExecutable = path.join(projects.root, 'not-executable-yarn');
    fs.writeFileSync(notExecutable, '#!/bin/sh\n', { mode: 0o644 });
    const { build, lines } = await buildWith({ YARN_BIN: notExecutable }, 'failing');
    expect(build.status).toBe('failed');
    expect(lines).toContain(`Could not run yarn install: ${notExecutable} is not executable (EACCES)`);
  });

  it('the project folder deleted during the build', async () => {
    const dir = projects.copy('failing', 'vanishing');
    fs.writeFileSync(
      path.join(dir, 'package.json'),
      JSON.stringify({ name: 'vanishing', version: '1.0.0', private: true, scripts: { preinstall: 'node -e "setTimeout(() => {}, 1500)"', build: 'node build.js' } }),
    );
    const server = await startTestServer({ PROJECTS_ROOT: projects.root });
    try {
      const started = await startBuild(server.url, 'vanishing');
      await waitForBuild(server.url, started.id, (b) => b.steps[0].status === 'running');
      await sleep(300);
      fs.rmSync(dir, { recursive: true, force: true });
      const build = await waitForEnd(server.url, started.id, 20000);
      expect(build.status).toBe('failed');
      // yarn may recreate the folder (it writes its lockfile there), but the project is gone.
      expect(await systemLines(server, started.logUrl)).toContainEqual(
        expect.stringMatching(new RegExp(`^The project folder ${dir} no longer (exists|has a package\\.json)$`)),
      );
    } finally {
      await server.stop();
    }
  }, 30000);

  it('a full disk: the build fails, and every reader still gets every line', async () => {
    const fullDisk = diskThatFillsAfter(3000);
    projects.configure('lines', { count: 2000 });
    const server = await startTestServer({ PROJECTS_ROOT: projects.root }, { historyFileSystem: fullDisk });
    servers.push(server);
    const started = await startBuild(server.url, 'lines');
    const live = new SseReader(`${server.url}${started.streamUrl}`);
    await live.closed;
    const build = await waitForEnd(server.url, started.id);
    expect(build.status).toBe('failed');
    const system = live.named('log').filter((e) => e.json.stream === 'system').map((e) => e.json.text);
    expect(system.at(-1)).toMatch(/^Build failed after .*: DATA_DIR refused a write \(ENOSPC: no space left on device, write\)$/);
    // What the disk refused is kept in memory: a replay is whole and matches the live stream.
    const replay = new SseReader(`${server.url}${started.streamUrl}`);
    await replay.closed;
    expect(replay.events.map((e) => e.id)).toEqual(live.events.map((e) => e.id));
    expect(live.events.at(-1)!.event).toBe('end');
  });

  it('a read-only DATA_DIR', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root });
    makeReadOnly(server.dataDir);
    try {
      const started = await startBuild(server.url, 'failing');
      const live = new SseReader(`${server.url}${started.streamUrl}`);
      await live.closed;
      const build = await waitForEnd(server.url, started.id);
      expect(build.status).toBe('failed');
      expect(live.events.at(-1)!.event).toBe('end');
      const verdict = live.named('log').at(-1)!.json.text;
      expect(verdict).toMatch(/^Build failed .*: DATA_DIR refused a write \((EPERM|EACCES|EROFS)/);
      expect((await request(`${server.url}/api/builds`)).json.builds[0].id).toBe(started.id);
    } finally {
      makeWritable(server.dataDir);
      await server.stop();
    }
  });
});

/** Makes a folder refuse writes, also for root (the immutable attribute), or by mode otherwise. */
function makeReadOnly(dir: string): void {
  try {
    execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
  } catch {
    fs.chmodSync(dir, 0o555);
  }
  let refused = false;
  try {
    fs.mkdirSync(path.join(dir, 'probe'));
    fs.rmdirSync(path.join(dir, 'probe'));
  } catch {
    refused = true;
  }
  if (!refused) throw new Error(`cannot make ${dir} read-only on this machine`);
}

function makeWritable(dir: string): void {
  try {
    execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
  } catch {
    // not set
  }
  fs.chmodSync(dir, 0o755);
}
