import { EventSource } from 'eventsource';
import { capturingLogger } from '../helpers/log-capture.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { postJson, request, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const TOKEN = 's3cr3t-token-7f2d9c';
const auth = { Authorization: `Bearer ${TOKEN}` };

describe('AUTH_TOKEN', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  let logs: () => string[];

  beforeAll(async () => {
    projects = makeProjectsRoot();
    const capture = capturingLogger();
    logs = capture.lines;
    server = await startTestServer({ PROJECTS_ROOT: projects.root, AUTH_TOKEN: TOKEN }, { logger: capture.logger });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it.each([
    ['GET', '/api/builds'],
    ['GET', '/api/builds/0000000000abcd'],
    ['GET', '/api/builds/0000000000abcd/log'],
    ['POST', '/api/builds/0000000000abcd/cancel'],
    ['GET', '/api/projects'],
    ['GET', '/api/log/push'],
    ['GET', '/api/log/push?build=0000000000abcd'],
    ['POST', '/api/project/build'],
    ['GET', '/metrics'],
  ])('401 unauthorized for %s %s without the token, or with a wrong one', async (method, path) => {
    const attempts: Record<string, string>[] = [{}, { Authorization: 'Bearer wrong' }, { Authorization: `Basic ${TOKEN}` }, { Authorization: `Bearer ${TOKEN}x` }];
    for (const headers of attempts) {
      const response = await request(`${server.url}${path}`, { method, headers });
      expect(response.status).toBe(401);
      expect(response.json.error.code).toBe('unauthorized');
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
    }
    expect((await request(`${server.url}${path}${path.includes('?') ? '&' : '?'}token=nope`, { method })).status).toBe(401);
  });

  it('checks the token before anything else: a bad body without it is 401, not 415 or 400', async () => {
    const response = await request(`${server.url}/api/project/build`, { method: 'POST', headers: { 'Content-Type': 'text/plain', Origin: 'http://evil.example' }, body: 'x' });
    expect(response.status).toBe(401);
  });

  it('accepts the token as a Bearer header, and as ?token= for EventSource', async () => {
    expect((await request(`${server.url}/api/builds`, { headers: auth })).status).toBe(200);
    expect((await request(`${server.url}/api/builds?token=${TOKEN}`)).status).toBe(200);
    const source = new EventSource(`${server.url}/api/log/push?token=${encodeURIComponent(TOKEN)}`);
    await new Promise<void>((resolve, reject) => {
      source.onopen = () => resolve();
      source.onerror = () => reject(new Error('EventSource with ?token= was refused'));
    });
    source.close();
  });

  it('keeps / and /healthz open', async () => {
    expect((await request(`${server.url}/`)).status).toBe(200);
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
  });

  it('never lets the token reach a build, a log line or a response', async () => {
    const started = await postJson(`${server.url}/api/project/build`, { projectPath: 'printenv' }, auth);
    expect(started.status).toBe(202);
    const build = await waitForEnd(server.url, started.json.build.id, 30000, auth);
    const texts = [
      (await request(`${server.url}${build.logUrl}?raw=1`, { headers: auth })).text,
      (await request(`${server.url}${build.logUrl}`, { headers: auth })).text,
      (await request(`${server.url}/api/builds`, { headers: auth })).text,
      (await request(`${server.url}/metrics`, { headers: auth })).text,
    ];
    expect(texts[0]).toContain('"CI":"true"'); // the environment was printed
    for (const text of texts) expect(text).not.toContain(TOKEN);
  });

  it('redacts token= from every URL it logs', async () => {
    await request(`${server.url}/api/builds?token=${TOKEN}&limit=2`);
    const reader = new SseReader(`${server.url}/api/log/push?token=${TOKEN}`);
    await reader.connected;
    reader.close();
    await waitFor(() => logs().some((line) => line.includes('/api/log/push')), 'the stream request to be logged');
    const all = logs();
    expect(all.some((line) => line.includes('token=[REDACTED]&limit=2'))).toBe(true);
    for (const line of all) expect(line).not.toContain(TOKEN);
  });
});

describe('origins and CORS', () => {
  let projects: ProjectsRoot;

  beforeAll(() => {
    projects = makeProjectsRoot();
  });

  afterAll(() => projects?.remove());

  it('refuses a cross-site form post with 403 forbidden_origin and starts nothing', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root });
    try {
      const response = await request(`${server.url}/api/project/build`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example' },
        body: 'projectPath=failing',
      });
      expect(response.status).toBe(403);
      expect(response.json.error.code).toBe('forbidden_origin');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect((await request(`${server.url}/api/builds`)).json.builds).toEqual([]);
      // A foreign page cannot hold stream slots either; `Origin: null` (sandboxed pages) is foreign too.
      expect((await request(`${server.url}/api/log/push`, { headers: { Origin: 'http://evil.example' } })).status).toBe(403);
      expect((await request(`${server.url}/api/builds`, { headers: { Origin: 'null' } })).status).toBe(403);
    } finally {
      await server.stop();
    }
  });

  it('accepts the page\'s own origin and sends no CORS headers when CORS_ORIGINS is unset', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root });
    try {
      const own = `http://127.0.0.1:${server.port}`;
      const response = await postJson(`${server.url}/api/project/build`, { projectPath: 'failing' }, { Origin: own });
      expect(response.status).toBe(202);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      await waitForEnd(server.url, response.json.build.id);
    } finally {
      await server.stop();
    }
  });

  it('allows exactly the listed origins, with CORS headers, and refuses the others', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, CORS_ORIGINS: 'https://ops.example,http://localhost:8080' });
    try {
      const allowed = await request(`${server.url}/api/builds`, { headers: { Origin: 'https://ops.example' } });
      expect(allowed.status).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://ops.example');

      const preflight = await request(`${server.url}/api/project/build`, {
        method: 'OPTIONS',
        headers: { Origin: 'http://localhost:8080', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,idempotency-key' },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:8080');
      expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Idempotency-Key/);

      const foreign = await request(`${server.url}/api/builds`, { headers: { Origin: 'https://evil.example' } });
      expect(foreign.status).toBe(403);
      expect(foreign.headers.get('access-control-allow-origin')).toBeNull();

      // The stream is served in front of Koa: the same headers and refusals there.
      const stream = new SseReader(`${server.url}/api/log/push`, { Origin: 'https://ops.example' });
      await stream.connected;
      stream.close();
      expect(stream.status).toBe(200);
      expect(stream.headers['access-control-allow-origin']).toBe('https://ops.example');
      expect(stream.headers.vary).toBe('Origin');
      const refusedStream = await request(`${server.url}/api/log/push`, { headers: { Origin: 'https://evil.example' } });
      expect([refusedStream.status, refusedStream.json.error.code]).toEqual([403, 'forbidden_origin']);
      expect(refusedStream.headers.get('access-control-allow-origin')).toBeNull();
      const streamPreflight = await request(`${server.url}/api/log/push`, {
        method: 'OPTIONS',
        headers: { Origin: 'https://ops.example', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'last-event-id' },
      });
      expect(streamPreflight.headers.get('access-control-allow-headers')).toMatch(/Last-Event-ID/);
    } finally {
      await server.stop();
    }
  });

  it('allows any origin only when CORS_ORIGINS is *', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, CORS_ORIGINS: '*' });
    try {
      const response = await request(`${server.url}/api/builds`, { headers: { Origin: 'https://anywhere.example' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    } finally {
      await server.stop();
    }
  });

  it('sends Referrer-Policy: no-referrer on every response: page, API, errors and streams', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root });
    try {
      for (const path of ['/', '/healthz', '/api/builds', '/api/builds/nope', '/api/nothing', '/metrics']) {
        expect((await request(`${server.url}${path}`)).headers.get('referrer-policy')).toBe('no-referrer');
      }
      const reader = new SseReader(`${server.url}/api/log/push`);
      await reader.connected;
      reader.close();
      expect(reader.headers['referrer-policy']).toBe('no-referrer');
    } finally {
      await server.stop();
    }
  });
});
