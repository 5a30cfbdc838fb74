import { createRequire } from 'node:module';
import { makeProjectsRoot, type ProjectsRoot } from '../../helpers/projects.js';
import { request, waitForBuild, waitForEnd } from '../../helpers/http.js';
import { expectToContainExactly, rebuildOutput, SseReader } from '../../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { announcedBuildId, runCli, startCli } from '../../helpers/cli-process.js';

const require = createRequire(import.meta.url);
const tricky = require('../../fixtures/projects/tricky/payload.cjs') as { PAYLOAD: Buffer; STDERR_LINE: string; TAIL: string };
const EXPECTED = new TextDecoder().decode(tricky.PAYLOAD);
const TIMESTAMP = /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] /;

/** One line of `--json` output. */
interface JsonEvent {
  readonly id: string;
  readonly event: string;
  readonly data: { readonly stream?: string; readonly text?: string; readonly eol?: boolean; readonly build?: { readonly id: string } };
}

/** The build's own stdout, as its ?build= stream rebuilds it (the contract's exactness rule). */
async function streamedOutput(server: TestServer, id: string, stream: 'stdout' | 'stderr' = 'stdout'): Promise<string> {
  const reader = new SseReader(`${server.url}/api/log/push?build=${id}`);
  await reader.closed;
  return rebuildOutput(reader.events, id, stream);
}

describe('buildlog build', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure(projects.copy('failing', 'failing-42').split('/').pop()!, { exitCode: 42 });
    projects.configure('slow', { seconds: 60 });
    projects.copy('slow', 'slow-2');
    server = await startTestServer({ PROJECTS_ROOT: projects.root, RETRY_MS: '100' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it("exits 0 after a successful build, its stdout byte for byte the build's stdout and its stderr line on stderr", async () => {
    const result = await runCli(['build', 'tricky', '--server', server.url]);
    expect(result.code).toBe(0);
    const id = announcedBuildId(result.stderr)!;
    expectToContainExactly(result.stdout, EXPECTED);
    expect(result.stdout).toBe(await streamedOutput(server, id));
    expect(result.stderr).toContain(tricky.STDERR_LINE);
    expect(result.stdout).not.toContain(tricky.STDERR_LINE);
    // System lines go to stderr: the step commands and the verdict.
    expect(result.stderr).toContain('$ yarn install\n');
    expect(result.stderr).toMatch(/Build succeeded in .* \(exit code 0\)\n/);
    expect(result.stdout).not.toContain('$ yarn install');
  });

  it("exits with the failing step's code: 3 stays 3", async () => {
    const result = await runCli(['build', 'failing', '--server', server.url]);
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('compiling...\n');
    expect(result.stderr).toContain('error: this build fails on purpose\n');
    expect(result.stdout).not.toContain('fails on purpose');
    expect(result.stderr).toMatch(/Build failed in .* \(exit code 3\)/);
  });

  it('passes any other code through too (42)', async () => {
    expect((await runCli(['build', 'failing-42', '--server', server.url])).code).toBe(42);
  });

  it('exits non-zero (1) for a failed build without an exit code, e.g. when yarn cannot start', async () => {
    const broken = await startTestServer({ PROJECTS_ROOT: projects.root, YARN_BIN: '/nonexistent/yarn.js' });
    try {
      const result = await runCli(['build', 'failing', '--server', broken.url]);
      const build = (await request(`${broken.url}/api/builds/${announcedBuildId(result.stderr)}`)).json;
      expect(build).toMatchObject({ status: 'failed', exitCode: null });
      expect(result.code).toBe(1);
    } finally {
      await broken.stop();
    }
  });

  it('prefixes [time] to each line with --timestamps, and takes nothing else away', async () => {
    const result = await runCli(['build', 'tricky', '--server', server.url, '--timestamps']);
    expect(result.code).toBe(0);
    const plain = await streamedOutput(server, announcedBuildId(result.stderr)!);
    expect(result.stdout.endsWith('\n')).toBe(true);
    // The long line and the tail come in several events each: one prefix per line all the same.
    const lines = result.stdout.slice(0, -1).split('\n');
    for (const line of lines) expect(line).toMatch(TIMESTAMP);
    expect(`${lines.map((line) => line.replace(TIMESTAMP, '')).join('\n')}\n`).toBe(plain);
    expect(result.stdout.match(/\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] /g)!.length).toBe(lines.length);
    expect(result.stderr).toMatch(/^\[[^\]]+\] \$ yarn install$/m);
  });

  it('prints every event as one JSON line on stdout with --json, ending with end', async () => {
    const result = await runCli(['build', 'failing', '--server', server.url, '--json']);
    expect(result.code).toBe(3);
    const events = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as JsonEvent);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: { build: { status: 'failed', exitCode: 3 } } });
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(['build', 'log', 'end']));
    for (const event of events) expect(event.id).toMatch(/^[0-9A-Za-z_-]{1,64}$/);
    const id = events.at(-1)!.data.build!.id;
    const stdout = events.filter((e) => e.event === 'log' && e.data.stream === 'stdout').map((e) => e.data.text + (e.data.eol ? '\n' : '')).join('');
    expect(stdout).toBe(await streamedOutput(server, id));
    // stderr keeps only buildlog's own notices.
    expect(result.stderr.split('\n').filter(Boolean).every((line) => line.startsWith('buildlog: '))).toBe(true);
  });

  it('exits 125 when the build it follows is cancelled through the API', async () => {
    const cli = startCli(['build', 'slow', '--server', server.url]);
    await cli.waitForOutput((stdout) => stdout.includes('tick 1\n'), 'the first tick');
    const id = announcedBuildId(cli.stderr())!;
    expect((await request(`${server.url}/api/builds/${id}/cancel`, { method: 'POST' })).status).toBe(202);
    const result = await cli.done;
    expect(result.code).toBe(125);
    expect(result.stderr).toMatch(/Build cancelled after .*cancel requested/);
  });

  it('cancels the build and exits 130 on SIGINT with --cancel-on-exit', async () => {
    const cli = startCli(['build', 'slow', '--server', server.url, '--cancel-on-exit']);
    await cli.waitForOutput((stdout) => stdout.includes('tick 1\n'), 'the first tick');
    const id = announcedBuildId(cli.stderr())!;
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`buildlog: cancelled build ${id}`);
    expect(await waitForEnd(server.url, id)).toMatchObject({ status: 'cancelled' });
  });

  it('leaves the build running and exits 130 on SIGINT without --cancel-on-exit', async () => {
    const cli = startCli(['build', 'slow-2', '--server', server.url]);
    await cli.waitForOutput((stdout) => stdout.includes('tick 1\n'), 'the first tick');
    const id = announcedBuildId(cli.stderr())!;
    cli.child.kill('SIGINT');
    const result = await cli.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain(`build ${id} keeps running`);
    expect((await request(`${server.url}/api/builds/${id}`)).json.status).toBe('running');
    await request(`${server.url}/api/builds/${id}/cancel`, { method: 'POST' });
    await waitForBuild(server.url, id, (build) => build.status === 'cancelled');
  });

  it('finds the same build again when a run repeats an --idempotency-key', async () => {
    const key = `deploy-${Date.now()}`;
    const first = await runCli(['build', 'failing', '--server', server.url, '--idempotency-key', key]);
    const again = await runCli(['build', 'failing', '--server', server.url, '--idempotency-key', key]);
    expect(again.stderr).toContain(`build ${announcedBuildId(first.stderr)} was already started with this Idempotency-Key`);
    expect(again.code).toBe(3);
    expect(again.stdout).toBe(first.stdout);
  });

  it('exits 65 when the server refuses the project, naming its reason', async () => {
    const notAProject = await runCli(['build', 'nobuild', '--server', server.url]);
    expect(notAProject.code).toBe(65);
    expect(notAProject.stderr).toContain('not_a_project');
    const outside = await runCli(['build', 'escape-link', '--server', server.url]);
    expect(outside.code).toBe(65);
    expect(outside.stderr).toContain('outside_roots');
  });
});
