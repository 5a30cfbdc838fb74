import { startHoldingProxy, type HoldingProxy } from '../../helpers/proxy/holding-proxy.js';
import { waitFor } from '../../helpers/wait.js';
import { makeProjectsRoot, type ProjectsRoot } from '../../helpers/projects.js';
import { freePort } from '../../helpers/free-port.js';
import { startTestServer, type TestServer } from '../../helpers/test-server.js';
import { runCli, startCli } from '../../helpers/cli-process.js';

const TOKEN = 'doctor-s3cret';

describe('buildlog doctor against the server itself', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, HEARTBEAT_MS: '100' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('passes every check, and exits 0', async () => {
    const result = await runCli(['doctor', '--server', server.url]);
    expect(result.stdout.split('\n')).toEqual([
      `buildlog doctor: checking ${server.url} as the page and a bot reach it`,
      `✓ the server answers at ${server.url}/healthz`,
      '✓ the API answers without a token (the server has no AUTH_TOKEN)',
      `✓ the page's POST passes the Host and Origin checks (Origin: ${server.url})`,
      expect.stringMatching(/^· plain http: HTTP\/1\.1/),
      '✓ the stream is not compressed',
      expect.stringMatching(/^✓ the stream's first bytes \(retry:\) arrived at once \(\d+ ms\)$/),
      expect.stringMatching(/^✓ heartbeats arrive one by one, every \d+ ms$/),
      expect.stringMatching(/^✓ the heartbeat interval \(\d+ ms\) is under the usual proxy idle timeouts \(60 s\)$/),
      'All checks passed.',
      '',
    ]);
    expect(result.stderr).toBe('buildlog: watching the stream for up to 35 s to time its heartbeats (--wait <ms> to change)\n');
    expect(result.code).toBe(0);
  });

  it('starts no build with its POST', async () => {
    await runCli(['doctor', '--server', server.url]);
    const list = (await (await fetch(`${server.url}/api/builds`)).json()) as { builds: unknown[] };
    expect(list.builds).toEqual([]);
  });

  it('says that nothing answers, and exits 1', async () => {
    const result = await runCli(['doctor', '--server', `http://127.0.0.1:${await freePort()}`]);
    expect(result.stdout).toMatch(/✗ cannot reach http:\/\/127\.0\.0\.1:\d+\/healthz \(ECONNREFUSED\): is the server running/);
    expect(result.stdout).toMatch(/1 problem found\.\n$/);
    expect(result.code).toBe(1);
  });

  it('rejects a --wait that is not a number of milliseconds as bad usage', async () => {
    const result = await runCli(['doctor', '--server', server.url, '--wait', '3s']);
    expect(result.code).toBe(64);
  });
});

describe('buildlog doctor against a server that needs a token', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, HEARTBEAT_MS: '100', AUTH_TOKEN: TOKEN });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('says that a token is needed, and stops there', async () => {
    const result = await runCli(['doctor', '--server', server.url]);
    expect(result.stdout).toContain('✗ the server needs a token (401 unauthorized): give it with --token or BUILDLOG_TOKEN');
    expect(result.stdout).not.toContain('stream');
    expect(result.code).toBe(1);
  });

  it('takes the token and the server from BUILDLOG_TOKEN and BUILDLOG_SERVER', async () => {
    const result = await runCli(['doctor'], { BUILDLOG_SERVER: server.url, BUILDLOG_TOKEN: TOKEN });
    expect(result.stdout).toContain('✓ the token is accepted');
    expect(result.stdout).toContain('All checks passed.');
    expect(result.code).toBe(0);
  });
});

describe('buildlog doctor through a proxy that holds the stream back', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  let proxy: HoldingProxy;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, HEARTBEAT_MS: '100' });
    proxy = await startHoldingProxy(server.url, { holdsStreams: true, hostHeader: 'client' });
  });

  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
    projects?.remove();
  });

  it('sees the heartbeats arrive in a clump when the proxy lets them go, and names the fix', async () => {
    const doctor = startCli(['doctor', '--server', proxy.url, '--wait', '20000']);
    // Longer than the second the contract allows for the first bytes.
    await waitFor(() => proxy.heldPings() >= 4 && proxy.heldForMs() >= 1500, 'the stream held back for 1.5 s');
    proxy.release();
    const result = await doctor.done;
    expect(result.stdout).toMatch(/✗ the stream's first bytes \(retry:\) took [\d.]+ m?s after its headers: a proxy buffers the stream; in nginx set proxy_buffering off/);
    expect(result.stdout).toMatch(/✗ heartbeats arrive in clumps \(\d+ at once after [\d.]+ m?s of silence\): a proxy buffers the stream; in nginx set proxy_buffering off/);
    expect(result.code).toBe(1);
  });
});
