import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { rebuildOutput, SseReader } from '../helpers/sse-reader.js';
import { startTcpRelay, type TcpRelay } from '../helpers/tcp-relay.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { announcedBuildId, lineNumbers, oneToN, startCli } from '../helpers/cli-process.js';

/** The build's stdout as the server's ?build= stream rebuilds it. */
async function streamedOutput(server: TestServer, id: string): Promise<string> {
  const reader = new SseReader(`${server.url}/api/log/push?build=${id}`);
  await reader.closed;
  return rebuildOutput(reader.events, id, 'stdout');
}

describe('buildlog build across dropped connections and restarts', () => {
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

  it('resumes after its connection is cut twice while the build runs: lines 1..N exactly once, exit 0', async () => {
    const LINES = 3000;
    projects.configure(projects.copy('lines', 'lines-cut').split('/').pop()!, { count: LINES, batch: 20, delayMs: 15 });
    const server = await start();
    const cli = startCli(['build', 'lines-cut', '--server', server.url]);
    await cli.waitForOutput((stdout) => lineNumbers(stdout).length >= 500, '500 lines');
    server.httpServer.closeAllConnections();
    await cli.waitForOutput((stdout) => lineNumbers(stdout).length >= 1500, '1500 lines');
    server.httpServer.closeAllConnections();
    const result = await cli.done;

    expect(result.stderr).toContain('buildlog: lost the connection to the server; resuming in');
    expect(result.code).toBe(0);
    expect(lineNumbers(result.stdout)).toEqual(oneToN(LINES));
    expect(result.stdout).toBe(await streamedOutput(server, announcedBuildId(result.stderr)!));
  }, 60000);

  it('follows the build across a server restart: every line once, then exit 75 for the interrupted build', async () => {
    projects.configure(projects.copy('lines', 'lines-restart').split('/').pop()!, { count: 20000, batch: 10, delayMs: 10 });
    const first = await start();
    // The CLI talks to a port that stays put: the new server cannot start on the old one's
    // port without racing any process of the machine that takes it once it is free.
    const relay = await startTcpRelay(first.port);
    relays.push(relay);
    const cli = startCli(['build', 'lines-restart', '--server', relay.url, '--retry-for', '30']);
    await cli.waitForOutput((stdout) => lineNumbers(stdout).length >= 300, '300 lines');
    // Cut the stream first, so that the CLI must come back through refused connections and
    // resume from its Last-Event-ID on the new server, rather than read the end on the old one.
    relay.forwardTo(null);
    first.httpServer.closeAllConnections();
    await first.stop();
    const printedBefore = lineNumbers(cli.stdout());
    const second = await start({ DATA_DIR: first.dataDir });
    relay.forwardTo(second.port);
    const result = await cli.done;

    expect(result.code).toBe(75);
    expect(result.stderr).toMatch(/Build interrupted/);
    const numbers = lineNumbers(result.stdout);
    expect(numbers).toEqual(oneToN(numbers.length));
    expect(numbers.slice(0, printedBefore.length)).toEqual(printedBefore);
    expect(numbers.length).toBeLessThan(20000);
    expect(result.stdout).toBe(await streamedOutput(second, announcedBuildId(result.stderr)!));
  }, 60000);

  it('waits out 503 too_many_clients (Retry-After: 5) and then follows the build', async () => {
    const server = await start({ MAX_CLIENTS: '1' });
    const holder = new SseReader(`${server.url}/api/log/push`);
    await holder.connected;
    const cli = startCli(['build', 'failing', '--server', server.url]);
    await cli.waitForOutput((_, stderr) => stderr.includes('the server is busy (503 too_many_clients); resuming in 5.0 s'), 'the 503');
    holder.close();
    const result = await cli.done;
    expect(result.code).toBe(3);
    expect(result.stdout).toContain('compiling...\n');
  }, 30000);
});
