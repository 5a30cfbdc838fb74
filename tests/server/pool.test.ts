import http from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

/** The value of an unlabelled metric. */
async function metric(server: TestServer, name: string): Promise<number> {
  const text = (await request(`${server.url}/metrics`)).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no metric ${name}`);
  return Number(line.split(' ')[1]);
}

describe('the SSE connection pool', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    server = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CLIENTS: '3' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('refuses the stream after MAX_CLIENTS with 503, Retry-After: 5 and too_many_clients', async () => {
    const open = [1, 2, 3].map(() => new SseReader(`${server.url}/api/log/push`));
    await Promise.all(open.map((r) => r.connected));
    expect(open.map((r) => r.status)).toEqual([200, 200, 200]);

    const refused = new SseReader(`${server.url}/api/log/push`);
    await refused.connected;
    await refused.closed;
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'too_many_clients', message: expect.any(String) } });
    expect(await metric(server, 'buildlog_sse_rejected_total')).toBeGreaterThanOrEqual(1);

    // Other routes are not part of the pool.
    expect((await request(`${server.url}/api/builds`)).status).toBe(200);
    expect(open.every((r) => r.closedBy === null)).toBe(true);

    // A slot frees as soon as its client goes away.
    open[0]!.close();
    await waitFor(async () => (await metric(server, 'buildlog_sse_clients')) === 2, 'the slot to free');
    const next = new SseReader(`${server.url}/api/log/push`);
    await next.connected;
    expect(next.status).toBe(200);
    for (const reader of [...open, next]) reader.close();
  });

  it('answers HEAD with the stream headers without taking a slot', async () => {
    const response = await fetch(`${server.url}/api/log/push`, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await metric(server, 'buildlog_sse_clients')).toBe(0);
  });

  it('counts build streams and a reserved slot against the cap the same way', async () => {
    const build = await startBuild(server.url, 'failing');
    await waitForEnd(server.url, build.id);
    await waitFor(async () => (await metric(server, 'buildlog_sse_clients')) === 0, 'no open streams');
    const open = [1, 2, 3].map(() => new SseReader(`${server.url}/api/log/push`));
    await Promise.all(open.map((r) => r.connected));
    const refused = new SseReader(`${server.url}${build.streamUrl}`);
    await refused.closed;
    expect(refused.status).toBe(503);
    for (const reader of open) reader.close();
  });
});

describe('the per-address cap', () => {
  let server: TestServer;

  beforeAll(async () => {
    // MAX_CLIENTS_PER_ADDRESS left at its default (25); the client address comes from the proxy.
    server = await startTestServer({ TRUST_PROXY: 'true' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  const from = (address: string) => new SseReader(`${server.url}/api/log/push`, { 'X-Forwarded-For': `203.0.113.9, ${address}` });

  it('refuses the 26th stream of one address with 429, Retry-After: 5 and too_many_streams; other addresses still connect; a slot frees when its client goes', async () => {
    const open = Array.from({ length: 25 }, () => from('198.51.100.1'));
    await Promise.all(open.map((r) => r.connected));
    expect(open.every((r) => r.status === 200)).toBe(true);

    const refused = from('198.51.100.1');
    await refused.closed;
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('5');
    expect(JSON.parse(refused.body)).toEqual({ error: { code: 'too_many_streams', message: expect.any(String) } });

    const other = from('198.51.100.2');
    await other.connected;
    expect(other.status).toBe(200);

    open[0]!.close();
    await waitFor(async () => (await metric(server, 'buildlog_sse_clients')) === 25, 'the slot to free');
    const again = from('198.51.100.1');
    await again.connected;
    expect(again.status).toBe(200);
    for (const reader of [...open, other, again]) reader.close();
    await waitFor(async () => (await metric(server, 'buildlog_sse_clients')) === 0, 'every slot to free');
  });
});

describe('the per-address cap and the pool cap together', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ TRUST_PROXY: 'true', MAX_CLIENTS: '2', MAX_CLIENTS_PER_ADDRESS: '2' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('checks the address\'s own cap before the pool\'s: 429 for the address that holds its share, 503 for another', async () => {
    const headers = (address: string) => ({ 'X-Forwarded-For': address });
    const open = [new SseReader(`${server.url}/api/log/push`, headers('198.51.100.1')), new SseReader(`${server.url}/api/log/push`, headers('198.51.100.1'))];
    await Promise.all(open.map((r) => r.connected));
    const sameAddress = new SseReader(`${server.url}/api/log/push`, headers('198.51.100.1'));
    const otherAddress = new SseReader(`${server.url}/api/log/push`, headers('198.51.100.2'));
    await Promise.all([sameAddress.closed, otherAddress.closed]);
    expect([sameAddress.status, otherAddress.status]).toEqual([429, 503]);
    for (const reader of open) reader.close();
  });
});

describe('the per-address cap without a trusted proxy', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ MAX_CLIENTS_PER_ADDRESS: '2' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('counts the peer\'s own address, whatever X-Forwarded-For says', async () => {
    const open = ['10.0.0.1', '10.0.0.2'].map((address) => new SseReader(`${server.url}/api/log/push`, { 'X-Forwarded-For': address }));
    await Promise.all(open.map((r) => r.connected));
    const third = new SseReader(`${server.url}/api/log/push`, { 'X-Forwarded-For': '10.0.0.3' });
    await third.closed;
    expect(third.status).toBe(429);
    for (const reader of open) reader.close();
  });
});

describe('an idle stream', () => {
  let server: TestServer;

  beforeAll(async () => {
    // Heartbeats far apart, so that the stream is idle for longer than the timeouts below.
    server = await startTestServer({ HEARTBEAT_MS: '1500' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('is not cut by the server\'s own timeouts', async () => {
    const { httpServer } = server;
    const saved = [httpServer.timeout, httpServer.requestTimeout, httpServer.headersTimeout, httpServer.keepAliveTimeout];
    [httpServer.timeout, httpServer.requestTimeout, httpServer.headersTimeout, httpServer.keepAliveTimeout] = [300, 300, 300, 300];
    try {
      const reader = new SseReader(`${server.url}/api/log/push`);
      await reader.connected;
      // Nothing is written for 1.5 s after the retry: five times the timeouts.
      await reader.waitFor((r) => r.comments.length >= 2, 'two heartbeats', 10000);
      expect(reader.closedBy).toBeNull();
      reader.close();
    } finally {
      [httpServer.timeout, httpServer.requestTimeout, httpServer.headersTimeout, httpServer.keepAliveTimeout] = saved as [number, number, number, number];
    }
  });
});

describe('connection lifetimes', () => {
  let projects: ProjectsRoot;
  let server: TestServer;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 60 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CLIENTS: '200', HEARTBEAT_MS: '100', RETRY_MS: '1234' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it('sends the configured retry and a heartbeat comment every HEARTBEAT_MS', async () => {
    const reader = new SseReader(`${server.url}/api/log/push`);
    await reader.waitFor((r) => r.comments.length >= 3, 'three heartbeats', 3000);
    reader.close();
    expect(reader.retries).toEqual([1234]);
    expect(reader.comments[0]).toMatch(/^ping /);
  });

  it('releases every slot, timer, socket and listener after 10,000 connects and disconnects', async () => {
    const build = await startBuild(server.url, 'slow'); // a running build, for ?build= streams
    const finished = await startBuild(server.url, 'failing');
    await waitForEnd(server.url, finished.id);
    const paths = ['/api/log/push', build.streamUrl, finished.streamUrl];

    /** Opens a stream, waits for its first bytes, hangs up (finished builds end by themselves). */
    const connectOnce = (path: string) =>
      new Promise<void>((resolve, reject) => {
        const req = http.get(`${server.url}${path}`, { agent: false }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', reject);
      });
    const run = async (count: number) => {
      for (let i = 0; i < count; i += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) => connectOnce(paths[(i + k) % paths.length]!)));
      }
      await waitFor(async () => (await metric(server, 'buildlog_sse_clients')) === 0, 'every slot to free', 10000);
    };
    const snapshot = async () => {
      await sleep(300); // the last sockets finish closing
      collectGarbage();
      const resources = process.getActiveResourcesInfo();
      return {
        heap: process.memoryUsage().heapUsed,
        timers: resources.filter((r) => r === 'Timeout').length,
        sockets: resources.filter((r) => r === 'TCPSocketWrap').length,
      };
    };

    await run(500); // warm up
    const before = await snapshot();
    await run(10000);
    // Sockets of streams that ended by themselves may still be closing; leaked ones never would.
    const after = await waitFor(async () => {
      const now = await snapshot();
      return now.timers <= before.timers && now.sockets <= before.sockets ? now : null;
    }, 'timers and sockets back to where they were', 10000, 100).catch(async () => snapshot());

    expect(await metric(server, 'buildlog_sse_clients')).toBe(0);
    expect(after.timers).toBeLessThanOrEqual(before.timers);
    expect(after.sockets).toBeLessThanOrEqual(before.sockets);
    // 10,000 leaked connections would hold far more than this (each holds its socket and buffers).
    expect(after.heap - before.heap).toBeLessThan(8 * 1024 * 1024);
    await request(`${server.url}/api/builds/${build.id}/cancel`, { method: 'POST' });
    await waitForEnd(server.url, build.id);
  }, 120000);
});

function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
}
