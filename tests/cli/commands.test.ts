import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, waitForBuild } from '../helpers/http.js';
import { rebuildOutput, SseReader } from '../helpers/sse-reader.js';
import { freePort } from '../helpers/free-port.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { announcedBuildId, runCli, startCli } from '../helpers/cli-process.js';

const TOKEN = 's3cret-token';
const WORKER_NAME = 'cli-test-worker';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

describe('buildlog against a server that needs a token', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  let failed: { id: string; stdout: string; stderr: string };

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 60 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root, AUTH_TOKEN: TOKEN, RETRY_MS: '100', WORKER_NAME });
    const result = await runCli(['build', 'failing', '--server', server.url, '--token', TOKEN]);
    failed = { id: announcedBuildId(result.stderr)!, stdout: result.stdout, stderr: result.stderr };
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  describe('the token', () => {
    it('is taken from --token', () => {
      expect(failed.id).toMatch(/^[0-9a-z]+$/);
      expect(failed.stdout).toContain('compiling...\n');
    });

    it('is taken from BUILDLOG_TOKEN, and the server from BUILDLOG_SERVER', async () => {
      const result = await runCli(['build', 'failing'], { BUILDLOG_TOKEN: TOKEN, BUILDLOG_SERVER: server.url });
      expect(result.code).toBe(3);
      expect(result.stdout).toContain('compiling...\n');
    });

    it('lets --token win over BUILDLOG_TOKEN', async () => {
      const result = await runCli(['list', '--server', server.url, '--token', TOKEN], { BUILDLOG_TOKEN: 'wrong' });
      expect(result.code).toBe(0);
    });

    it('is missing or wrong: exit 77, saying so', async () => {
      const missing = await runCli(['build', 'failing', '--server', server.url]);
      expect(missing.code).toBe(77);
      expect(missing.stderr).toContain('unauthorized');
      expect((await runCli(['logs', failed.id, '--server', server.url, '--token', 'wrong'])).code).toBe(77);
      expect((await runCli(['list', '--server', server.url], { BUILDLOG_TOKEN: 'wrong' })).code).toBe(77);
    });
  });

  describe('logs', () => {
    it("prints a finished build's exact output and exits with its code", async () => {
      const result = await runCli(['logs', failed.id, '--server', server.url, '--token', TOKEN]);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe((await request(`${server.url}/api/builds/${failed.id}/log?raw=1`, { headers: AUTH })).text);
      expect(result.stdout).toContain('error: this build fails on purpose\n');
    });

    it('prints the timestamped text log with --timestamps', async () => {
      const result = await runCli(['logs', failed.id, '--server', server.url, '--token', TOKEN, '--timestamps']);
      expect(result.code).toBe(3);
      expect(result.stdout).toBe((await request(`${server.url}/api/builds/${failed.id}/log`, { headers: AUTH })).text);
      expect(result.stdout).toMatch(/^\[[^\]]+\] \[stderr\] error: this build fails on purpose$/m);
    });

    it('replays the build like `build` does with --follow, stdout and stderr apart', async () => {
      const result = await runCli(['logs', failed.id, '--follow', '--server', server.url, '--token', TOKEN]);
      expect(result.code).toBe(3);
      const reader = new SseReader(`${server.url}/api/log/push?build=${failed.id}`, AUTH);
      await reader.closed;
      expect(result.stdout).toBe(rebuildOutput(reader.events, failed.id, 'stdout'));
      expect(result.stdout).toBe(failed.stdout);
      expect(result.stderr).toContain('error: this build fails on purpose\n');
    });

    it('prints the log so far of a running build, exits 0 and says it is running; --follow follows it to its end', async () => {
      const cli = startCli(['build', 'slow', '--server', server.url, '--token', TOKEN]);
      await cli.waitForOutput((stdout) => stdout.includes('tick 2\n'), 'two ticks');
      const id = announcedBuildId(cli.stderr())!;
      const sofar = await runCli(['logs', id, '--server', server.url, '--token', TOKEN]);
      expect(sofar.code).toBe(0);
      expect(sofar.stdout).toContain('tick 2\n');
      expect(sofar.stderr).toContain(`build ${id} is running`);

      const follower = startCli(['logs', id, '--follow', '--server', server.url, '--token', TOKEN]);
      await follower.waitForOutput((stdout) => stdout.includes('tick 3\n'), 'the third tick');
      const cancel = await runCli(['cancel', id, '--server', server.url, '--token', TOKEN]);
      expect(cancel.code).toBe(0);
      expect(cancel.stderr).toContain(`cancel requested for build ${id}`);
      expect((await follower.done).code).toBe(125);
      expect((await cli.done).code).toBe(125);
    });

    it('refuses --json without --follow as bad usage (64)', async () => {
      expect((await runCli(['logs', failed.id, '--json', '--server', server.url, '--token', TOKEN])).code).toBe(64);
    });

    it('exits 65 for an unknown build', async () => {
      const result = await runCli(['logs', 'zzzzzzzzzzzz', '--server', server.url, '--token', TOKEN]);
      expect(result.code).toBe(65);
      expect(result.stderr).toContain('build_not_found');
    });
  });

  describe('list', () => {
    it('shows recent builds as a table, newest first', async () => {
      const result = await runCli(['list', '--server', server.url, '--token', TOKEN]);
      expect(result.code).toBe(0);
      const [header, ...rows] = result.stdout.trimEnd().split('\n');
      expect(header).toMatch(/^ID +STATUS +EXIT +DURATION +CREATED +WORKER +PROJECT$/);
      const row = rows.find((line) => line.startsWith(`${failed.id} `))!;
      expect(row).toMatch(
        new RegExp(`^${failed.id} +failed +3 +\\d+\\.\\ds +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d +${WORKER_NAME} +${projects.project('failing')}$`),
      );
    });

    it('prints the builds as JSON with --json, and honours --limit', async () => {
      const result = await runCli(['list', '--json', '--limit', '1', '--server', server.url, '--token', TOKEN]);
      expect(result.code).toBe(0);
      const { builds } = JSON.parse(result.stdout) as { builds: Array<{ id: string }> };
      const all = (await request(`${server.url}/api/builds`, { headers: AUTH })).json.builds as Array<{ id: string }>;
      expect(builds.map((b) => b.id)).toEqual([all[0]!.id]);
    });
  });

  describe('workers', () => {
    it("lists this server's one worker as a table: busy with the build it runs, then idle", async () => {
      const cli = startCli(['build', 'slow', '--server', server.url, '--token', TOKEN]);
      await cli.waitForOutput((stdout) => stdout.includes('tick 1\n'), 'the first tick');
      const id = announcedBuildId(cli.stderr())!;
      const busy = await runCli(['workers', '--server', server.url, '--token', TOKEN]);
      expect(busy.code).toBe(0);
      expect(busy.stdout.split('\n')[0]).toMatch(/^NAME +STATUS +SLOTS +LAST SEEN +BUILDS$/);
      expect(busy.stdout.split('\n').slice(1)).toEqual([expect.stringMatching(new RegExp(`^${WORKER_NAME} +busy +1/2 +\\d+s ago +${id}$`)), '']);

      expect((await runCli(['cancel', id, '--server', server.url, '--token', TOKEN])).code).toBe(0);
      expect((await cli.done).code).toBe(125);
      const idle = await runCli(['workers', '--server', server.url, '--token', TOKEN]);
      expect(idle.stdout).toMatch(new RegExp(`^${WORKER_NAME} +idle +0/2 +\\d+s ago +-$`, 'm'));
    });

    it('prints the workers as the JSON of GET /api/workers with --json', async () => {
      const result = await runCli(['workers', '--json', '--server', server.url, '--token', TOKEN]);
      expect(result.code).toBe(0);
      const { workers } = JSON.parse(result.stdout) as { workers: Array<Record<string, unknown>> };
      expect(workers).toEqual([
        { name: WORKER_NAME, status: 'idle', builds: [], maxConcurrentBuilds: 2, startedAt: expect.any(String), lastSeenAt: expect.any(String) },
      ]);
    });

    it('exits 77 without the token', async () => {
      const result = await runCli(['workers', '--server', server.url]);
      expect(result.code).toBe(77);
      expect(result.stderr).toContain('list workers');
    });
  });

  describe('cancel', () => {
    it('cancels a running build (0), and counts a build already cancelled as done (0)', async () => {
      const cli = startCli(['build', 'slow', '--server', server.url, '--token', TOKEN]);
      await cli.waitForOutput((stdout) => stdout.includes('tick 1\n'), 'the first tick');
      const id = announcedBuildId(cli.stderr())!;
      expect((await runCli(['cancel', id, '--server', server.url, '--token', TOKEN])).code).toBe(0);
      await waitForBuild(server.url, id, (build) => build.status === 'cancelled', 30000, AUTH);
      const again = await runCli(['cancel', id, '--server', server.url, '--token', TOKEN]);
      expect(again.code).toBe(0);
      expect(again.stderr).toContain('already cancelled');
      expect((await cli.done).code).toBe(125);
    });

    it('exits 65 for a build that ended otherwise, and for an unknown build', async () => {
      const over = await runCli(['cancel', failed.id, '--server', server.url, '--token', TOKEN]);
      expect(over.code).toBe(65);
      expect(over.stderr).toContain('already over (failed)');
      expect((await runCli(['cancel', 'zzzzzzzzzzzz', '--server', server.url, '--token', TOKEN])).code).toBe(65);
    });
  });
});

describe('buildlog without a server', () => {
  it('exits 69 once --retry-for is spent on refused connections', async () => {
    const server = `http://127.0.0.1:${await freePort()}`;
    const build = await runCli(['build', 'app', '--server', server, '--retry-for', '1']);
    expect(build.code).toBe(69);
    expect(build.stderr).toContain('ECONNREFUSED');
    expect(build.stderr).toContain('gave up after retrying for 1 s');
    expect((await runCli(['list', '--server', server, '--retry-for', '0'])).code).toBe(69);
  });
});

describe('buildlog usage', () => {
  it.each([
    ['no command', []],
    ['an unknown command', ['deploy']],
    ['an unknown option', ['list', '--bogus']],
    ['a missing argument', ['build']],
    ['an extra argument', ['cancel', 'a', 'b']],
    ['a bad --retry-for', ['list', '--retry-for', 'soon']],
    ['a bad --limit', ['list', '--limit', '0']],
    ['a bad --idempotency-key', ['build', 'app', '--idempotency-key', 'has space']],
    ['a server that is not an http URL', ['list', '--server', 'ftp://example.com']],
  ])('exits 64 for %s', async (_what, args) => {
    const result = await runCli(args);
    expect(result.code).toBe(64);
    expect(result.stderr).not.toBe('');
  });

  it('exits 64 for a BUILDLOG_SERVER that is not a URL', async () => {
    expect((await runCli(['list'], { BUILDLOG_SERVER: 'not a url' })).code).toBe(64);
  });

  it('prints help with the exit codes for --help, and exits 0', async () => {
    const main = await runCli(['--help']);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Exit codes:');
    for (const command of ['build', 'logs', 'list', 'workers', 'cancel']) {
      const result = await runCli([command, '--help']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Usage: buildlog ${command}`);
      expect(result.stdout).toContain('--server <url>');
    }
  });
});
