import fs from 'node:fs';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { postJson, request, startBuild, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

/** What yarn itself adds to a script's environment; everything else must come from us. */
const YARN_ADDED = new Set(['INIT_CWD', 'NODE', 'PWD', 'YARN_WRAP_OUTPUT']);
const CONTRACT_ENV = new Set(['PATH', 'HOME', 'LANG', 'CI', 'FORCE_COLOR', 'TMPDIR', 'BUILDLOG_BUILD_ID']);

describe('builds', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, CORS_ORIGINS: 'https://ops.example', WORKER_NAME: 'solo-1' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('answers 202 at once with Location and the queued build, before any command runs', async () => {
    const response = await postJson(`${server.url}/api/project/build`, { projectPath: 'failing' });
    expect(response.status).toBe(202);
    const build = response.json.build;
    expect(response.headers.get('location')).toBe(`/api/builds/${build.id}`);
    expect(response.json.msg).toBe('Build started; follow its output at streamUrl.');
    expect(build).toEqual({
      id: expect.stringMatching(/^[0-9a-z]+$/),
      projectPath: projects.project('failing'),
      status: 'queued',
      steps: [
        { name: 'install', command: 'yarn install', status: 'pending', exitCode: null, startedAt: null, finishedAt: null },
        { name: 'build', command: 'yarn build', status: 'pending', exitCode: null, startedAt: null, finishedAt: null },
      ],
      createdAt: expect.any(String),
      startedAt: null,
      finishedAt: null,
      exitCode: null,
      durationMs: null,
      worker: null,
      streamUrl: `/api/log/push?build=${build.id}`,
      logUrl: `/api/builds/${build.id}/log`,
    });
    await waitForEnd(server.url, build.id);
  });

  it('names the process that ran a build in Build.worker, and lists that process alone in GET /api/workers', async () => {
    projects.configure('slow', { seconds: 2 });
    const build = await startBuild(server.url, 'slow');
    expect(build.worker).toBeNull();
    await waitFor(async () => (await request(`${server.url}/api/builds/${build.id}`)).json.status === 'running', 'the build to start');
    const busy = (await request(`${server.url}/api/workers`)).json;
    expect(busy.workers).toHaveLength(1);
    expect(busy.workers[0]).toMatchObject({ name: 'solo-1', status: 'busy', builds: [build.id], maxConcurrentBuilds: 2 });
    expect(Date.parse(busy.workers[0].lastSeenAt)).toBeGreaterThanOrEqual(Date.parse(busy.workers[0].startedAt));
    const done = await waitForEnd(server.url, build.id);
    expect(done.worker).toBe('solo-1');
    expect((await request(`${server.url}/api/workers`)).json.workers[0]).toMatchObject({ status: 'idle', builds: [] });
  });

  it('takes a form body, as a plain form or jQuery sends it', async () => {
    const response = await request(`${server.url}/api/project/build`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      body: `projectPath=${encodeURIComponent(projects.project('failing'))}`,
    });
    expect(response.status).toBe(202);
    await waitForEnd(server.url, response.json.build.id);
  });

  it('ends failed with the failing step\'s exit code', async () => {
    projects.configure('failing', { exitCode: 7 });
    const build = await startBuild(server.url, 'failing');
    const done = await waitForEnd(server.url, build.id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 7 });
    expect(done.steps.map((s: { status: string; exitCode: number }) => [s.status, s.exitCode])).toEqual([
      ['succeeded', 0],
      ['failed', 7],
    ]);
    expect(done.durationMs).toBeGreaterThan(0);
    const log = (await request(`${server.url}${build.logUrl}`)).text.trimEnd().split('\n');
    expect(log.at(-1)).toMatch(/\[system\] Build failed in \d+\.\d s \(exit code 7\)$/);
    projects.configure('failing', { exitCode: 3 });
  });

  it('skips the build step when the install fails', async () => {
    const dir = projects.copy('failing', 'install-fails');
    fs.writeFileSync(`${dir}/package.json`, JSON.stringify({ name: 'install-fails', version: '1.0.0', private: true, scripts: { preinstall: 'node -e "process.exit(4)"', build: 'node build.js' } }));
    const build = await startBuild(server.url, 'install-fails');
    const done = await waitForEnd(server.url, build.id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 4 });
    expect(done.steps.map((s: { status: string; exitCode: number | null }) => [s.status, s.exitCode])).toEqual([
      ['failed', 4],
      ['skipped', null],
    ]);
    expect((await request(`${server.url}${build.logUrl}`)).text).not.toContain('$ yarn build');
  });

  it('gives the build only the contract\'s environment, a TMPDIR of its own that is removed after, and a closed stdin', async () => {
    const build = await startBuild(server.url, 'printenv');
    await waitForEnd(server.url, build.id);
    const stdout = (await request(`${server.url}${build.logUrl}?raw=1`)).text;
    const env = JSON.parse(stdout.split('\n').find((line) => line.startsWith('{'))!) as Record<string, string>;
    const foreign = Object.keys(env).filter((key) => !CONTRACT_ENV.has(key) && !YARN_ADDED.has(key) && !key.startsWith('npm_'));
    expect(foreign).toEqual([]);
    expect(env).toMatchObject({ CI: 'true', FORCE_COLOR: '1', HOME: server.config.inheritedEnv.home, LANG: server.config.inheritedEnv.lang, BUILDLOG_BUILD_ID: build.id });
    expect(env.TMPDIR).toContain(`build-log-${build.id}-`);
    expect(fs.existsSync(env.TMPDIR!)).toBe(false);
    expect(stdout).toContain('stdin: eof');
  });

  it('runs in the real path of a project reached through a link inside the roots', async () => {
    fs.symlinkSync(projects.project('failing'), `${projects.root}/failing-link`);
    const build = await startBuild(server.url, 'failing-link');
    expect(build.projectPath).toBe(projects.project('failing'));
    await waitForEnd(server.url, build.id);
  });

  it('returns the same build for a repeated Idempotency-Key, with 200', async () => {
    const headers = { 'Idempotency-Key': 'release-2026.11.21' };
    const first = await postJson(`${server.url}/api/project/build`, { projectPath: 'failing' }, headers);
    const again = await postJson(`${server.url}/api/project/build`, { projectPath: 'failing' }, headers);
    expect([first.status, again.status]).toEqual([202, 200]);
    expect(again.json.build.id).toBe(first.json.build.id);
    expect(again.headers.get('location')).toBe(`/api/builds/${first.json.build.id}`);
    await waitForEnd(server.url, first.json.build.id);
    const later = await postJson(`${server.url}/api/project/build`, { projectPath: 'failing' }, headers);
    expect(later.status).toBe(200);
    expect(later.json.build.status).toBe('failed');
  });

  it('lists builds newest first and honours ?limit', async () => {
    const all = (await request(`${server.url}/api/builds`)).json.builds;
    expect(all.length).toBeGreaterThanOrEqual(3);
    const created = all.map((b: { createdAt: string }) => b.createdAt);
    expect([...created].sort().reverse()).toEqual(created);
    const one = (await request(`${server.url}/api/builds?limit=1`)).json.builds;
    expect(one.map((b: { id: string }) => b.id)).toEqual([all[0].id]);
  });

  it('lists the projects directly inside the roots, leaving out links that lead outside', async () => {
    const { projects: listed } = (await request(`${server.url}/api/projects`)).json;
    const byName = Object.fromEntries(listed.map((p: { name: string }) => [p.name, p]));
    expect(byName.tricky).toEqual({ name: 'tricky', path: projects.project('tricky'), hasBuildScript: true });
    expect(byName.nobuild).toEqual({ name: 'nobuild', path: projects.project('nobuild'), hasBuildScript: false });
    expect(byName['escape-link']).toBeUndefined();
  });

  it('answers /healthz and the page without a token', async () => {
    expect((await request(`${server.url}/healthz`)).json).toEqual({ status: 'ok' });
    const page = await request(`${server.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.text).toMatch(/<button[\s>]/);
  });

  it('sends build events of every build on the global stream, and no end', async () => {
    const reader = new SseReader(`${server.url}/api/log/push`);
    await reader.connected;
    const build = await startBuild(server.url, 'failing');
    await reader.waitFor((r) => r.named('build').some((e) => e.json.build.id === build.id && e.json.build.status === 'failed'), 'the final status');
    reader.close();
    expect(reader.named('end')).toEqual([]);
    expect(reader.named('log').some((e) => e.json.build === build.id && e.json.text === 'compiling...')).toBe(true);
  });
});

describe('several PROJECTS_ROOT folders', () => {
  let first: ProjectsRoot;
  let second: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    first = makeProjectsRoot();
    second = makeProjectsRoot();
    second.copy('failing', 'only-in-second');
    server = await startTestServer({ PROJECTS_ROOT: `${first.root}:${second.root}` });
  });

  afterAll(async () => {
    await server?.stop();
    first?.remove();
    second?.remove();
  });

  it('takes a relative projectPath relative to the first root', async () => {
    const build = await startBuild(server.url, 'failing');
    expect(build.projectPath).toBe(first.project('failing'));
    await waitForEnd(server.url, build.id);
    const elsewhere = await postJson(`${server.url}/api/project/build`, { projectPath: 'only-in-second' });
    expect([elsewhere.status, elsewhere.json.error.code]).toEqual([400, 'not_a_project']);
  });

  it('builds an absolute path inside any root, and lists the projects of every root', async () => {
    const build = await startBuild(server.url, second.project('only-in-second'));
    expect(build.projectPath).toBe(second.project('only-in-second'));
    await waitForEnd(server.url, build.id);
    const paths = (await request(`${server.url}/api/projects`)).json.projects.map((p: { path: string }) => p.path);
    expect(paths).toEqual(expect.arrayContaining([first.project('tricky'), second.project('tricky'), second.project('only-in-second')]));
  });
});
