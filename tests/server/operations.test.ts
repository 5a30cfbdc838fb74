import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { capturingLogger } from '../helpers/log-capture.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

describe('operations', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  let server: TestServer;
  let logs: () => string[];
  let buildId: string;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-ops-'));
    const corrupt = path.join(dataDir, 'builds', '0000000000dead1');
    fs.mkdirSync(corrupt, { recursive: true });
    fs.writeFileSync(path.join(corrupt, 'build.json'), '{"build": 42}');
    const capture = capturingLogger();
    logs = capture.lines;
    server = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir, MAX_CLIENTS: '1' }, { logger: capture.logger });
    const reader = new SseReader(`${server.url}/api/log/push`);
    await reader.connected;
    const refused = new SseReader(`${server.url}/api/log/push`);
    await refused.closed;
    const build = await startBuild(server.url, 'failing');
    buildId = build.id;
    await waitForEnd(server.url, build.id);
    await reader.waitFor((r) => r.named('build').some((e) => e.json.build.status === 'failed'), 'the final status');
    reader.close();
    await waitFor(async () => (await request(`${server.url}/metrics`)).text.includes('\nbuildlog_sse_clients 0\n'), 'the stream to close');
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const parsed = () => logs().map((line) => JSON.parse(line) as Record<string, unknown>);

  it('logs one JSON line per request', () => {
    const post = parsed().find((entry) => entry.msg === 'request' && entry.method === 'POST');
    expect(post).toMatchObject({ level: 30, url: '/api/project/build', status: 202, ms: expect.any(Number) });
    expect(parsed().filter((entry) => entry.msg === 'request' && entry.url === '/api/log/push').map((entry) => entry.status).sort()).toEqual([200, 503]);
  });

  it('logs one JSON line per build transition', () => {
    const transitions = parsed().filter((entry) => entry.msg === 'build changed' && entry.build === buildId).map((entry) => entry.status);
    expect(transitions[0]).toBe('queued');
    expect(transitions.at(-1)).toBe('failed');
    expect(transitions.length).toBe(7); // queued, running, each step's start and end, the final status
  });

  it('reports a corrupt record it skipped', () => {
    const warning = parsed().find((entry) => entry.level === 40 && String(entry.msg).includes('0000000000dead1'));
    expect(warning?.msg).toMatch(/skipped build 0000000000dead1: .*build\.json is unreadable/);
  });

  it('serves Prometheus metrics: streams, refusals, builds by status, durations, events and bytes', async () => {
    const response = await request(`${server.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const value = (name: string) => Number(response.text.split('\n').find((line) => line.startsWith(`${name} `))?.split(' ')[1]);
    expect(value('buildlog_sse_clients')).toBe(0);
    expect(value('buildlog_sse_rejected_total')).toBe(1);
    expect(value('buildlog_sse_slow_clients_dropped_total')).toBe(0);
    expect(value('buildlog_events_total')).toBeGreaterThan(10);
    expect(value('buildlog_sse_bytes_sent_total')).toBeGreaterThan(1000);
    expect(value('buildlog_builds{status="failed"}')).toBe(1);
    expect(value('buildlog_builds{status="running"}')).toBe(0);
    expect(value('buildlog_build_duration_seconds_count{status="failed"}')).toBe(1);
    expect(response.text).toContain('process_resident_memory_bytes');
  });
});

describe('connections under a low limit of open files (a real process under `ulimit -n 256`)', () => {
  const OPEN_FILES_LIMIT = 256;
  let projects: ProjectsRoot;
  let dataDir: string;
  let server: ServerProcess;
  const sockets: net.Socket[] = [];

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 1 });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-fds-'));
    server = await spawnServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir, MAX_CONCURRENT_BUILDS: '1' }, { openFilesLimit: OPEN_FILES_LIMIT });
  });

  afterAll(() => {
    for (const socket of sockets) socket.destroy();
    server?.killAll();
    projects?.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('stays up with more unfinished requests than descriptors, runs its queued builds, and closes the unfinished ones after 10 s', async () => {
    const running = await startBuild(server.url, 'slow');
    const queued = await startBuild(server.url, 'lines'); // its step spawns while the flood is held
    // Followed on connections opened before the flood: new ones are refused while it lasts.
    const streams = [new SseReader(`${server.url}${running.streamUrl}`), new SseReader(`${server.url}${queued.streamUrl}`)];
    await Promise.all(streams.map((stream) => stream.connected));

    // More connections than the process may open files, each sending headers that never end.
    const closed = new Set<net.Socket>();
    const answers = new Map<net.Socket, string>();
    await Promise.all(
      Array.from({ length: OPEN_FILES_LIMIT + 150 }, () =>
        new Promise<void>((resolve) => {
          const socket = net.connect(server.port, '127.0.0.1', () => {
            socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
            resolve();
          });
          sockets.push(socket);
          socket.on('data', (chunk: Buffer) => answers.set(socket, (answers.get(socket) ?? '') + chunk.toString()));
          socket.on('error', () => resolve());
          socket.on('close', () => closed.add(socket));
        }),
      ),
    );
    // Past its cap the server closes new connections at once, so it never holds more than it may.
    await waitFor(() => sockets.length - closed.size < OPEN_FILES_LIMIT, 'the server to close the connections past its cap');
    expect(server.child.exitCode).toBeNull();
    const held = sockets.filter((s) => !closed.has(s));
    expect(held.length).toBeGreaterThan(50);

    // The reserve of descriptors lets the queued build's steps spawn while the flood is held.
    await Promise.all(streams.map((stream) => stream.closed));
    expect(streams.map((stream) => stream.events.at(-1)?.json.build.status)).toEqual(['succeeded', 'succeeded']);

    // Once some connections go away, a new one is served again.
    for (const socket of held.splice(0, 20)) socket.destroy();
    const health = await waitFor(
      () => request(`${server.url}/healthz`, { headers: { Connection: 'close' } }).then((r) => (r.status === 200 ? r : null), () => null),
      'GET /healthz to answer on a new connection',
    );
    expect(health.json).toEqual({ status: 'ok' });

    // The held ones are closed once their 10 s to send headers are over, with a JSON 408.
    await waitFor(() => held.every((s) => closed.has(s)), 'the server to close the requests whose headers never ended', 20000);
    const timedOut = held.map((s) => answers.get(s) ?? '').filter((text) => text.startsWith('HTTP/1.1 408'));
    expect(timedOut.length).toBeGreaterThan(0);
    expect(timedOut[0]).toContain('{"error":{"code":"request_timeout"');
    expect(server.child.exitCode).toBeNull();
  }, 60000);
});
