import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { capturingLogger } from '../helpers/log-capture.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
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
