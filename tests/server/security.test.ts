import { EventSource } from 'eventsource';
import { capturingLogger } from '../helpers/log-capture.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { postJson, rawRequest, request, waitForEnd, type JsonResponse } from '../helpers/http.js';
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
    const responses = await Promise.all(
      [`${build.logUrl}?raw=1`, build.logUrl, '/api/builds', '/metrics'].map((path) => request(`${server.url}${path}`, { headers: auth })),
    );
    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200]); // an error body would hide nothing
    const texts = responses.map((response) => response.text);
    expect(texts[0]).toContain('"CI":"true"'); // the environment was printed
    for (const text of texts) expect(text).not.toContain(TOKEN);
  });

  /** Every byte of a string as %XX: the same token, spelled otherwise. */
  const percentAll = (text: string, hexCase: 'upper' | 'lower' = 'upper') =>
    [...Buffer.from(text)].map((byte) => `%${byte.toString(16).padStart(2, '0')}`).map((e) => (hexCase === 'upper' ? e.toUpperCase() : e)).join('');
  const fullyDecoded = (text: string) => {
    let current = text;
    for (let i = 0; i < 4; i++) current = current.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => { try { return decodeURIComponent(run); } catch { return run; } });
    return current;
  };
  const expectNoTokenLogged = () => {
    const all = logs();
    expect(all.length).toBeGreaterThan(0);
    for (const line of all) {
      expect(line).not.toContain(TOKEN);
      expect(fullyDecoded(line)).not.toContain(TOKEN);
    }
  };

  it.each([
    ['an encoded letter of the name (%74oken)', `%74oken=${TOKEN}`],
    ['the name in capitals (TOKEN)', `TOKEN=${TOKEN}`],
    ['the name in mixed case (Token)', `Token=${TOKEN}`],
    ['another encoded letter (tok%65n)', `tok%65n=${TOKEN}`],
    ['the whole name encoded', `${percentAll('token', 'lower')}=${TOKEN}`],
    ['the value percent-encoded', `token=${percentAll(TOKEN)}`],
    ['one letter of the value encoded', `token=${TOKEN.slice(0, 3)}%${TOKEN.charCodeAt(3).toString(16)}${TOKEN.slice(4)}`],
    ['name and value encoded', `%74oken=${percentAll(TOKEN, 'lower')}`],
    ['the plain name twice', `token=${TOKEN}&token=${TOKEN}`],
  ])('accepts ?token= only under its plain name and spelling: 401 for %s, and never logs the token', async (_what, query) => {
    const logged = logs().length;
    for (const path of ['/api/builds', '/api/log/push']) {
      const response = await request(`${server.url}${path}?${query}&limit=1`);
      expect([path, response.status, response.json?.error?.code]).toEqual([path, 401, 'unauthorized']);
    }
    await waitFor(() => logs().slice(logged).some((line) => line.includes('"url":"/api/log/push?')), 'the stream request to be logged');
    expectNoTokenLogged();
  });

  it('never logs the token, whatever a URL that also carries the Bearer header spells it', async () => {
    const spellings = [`%74oken=${TOKEN}`, `TOKEN=${percentAll(TOKEN)}`, `x=${TOKEN}`, `t=${percentAll(TOKEN, 'lower')}`, `token=${encodeURIComponent(encodeURIComponent(TOKEN))}`];
    for (const query of spellings) {
      expect((await request(`${server.url}/api/builds?${query}`, { headers: auth })).status).toBe(200);
    }
    expect((await request(`${server.url}/api/builds/${TOKEN}`, { headers: auth })).status).toBe(404);
    await waitFor(() => logs().filter((line) => line.includes('"status":200')).length >= spellings.length, 'the requests to be logged');
    expectNoTokenLogged();
  });

  it('redacts token= from every URL it logs', async () => {
    expect((await request(`${server.url}/api/builds?token=${TOKEN}&limit=2`)).status).toBe(200);
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
      expect(streamPreflight.status).toBe(204);
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

function expectCode(response: JsonResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.json?.error?.code }).toEqual({ status, code });
}

const formPost = (headers: Record<string, string>) => ({
  method: 'POST',
  headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
  body: 'projectPath=failing',
});

describe('hosts and origins', () => {
  let projects: ProjectsRoot;

  beforeAll(() => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 30 });
  });

  afterAll(() => projects?.remove());

  it('refuses a page reached by DNS rebinding: 403 forbidden_host on every route but GET /healthz, naming the host and the variables', async () => {
    const capture = capturingLogger();
    const server = await startTestServer({ PROJECTS_ROOT: projects.root }, { logger: capture.logger });
    try {
      // What the attack sent: the page's own name, now resolving to 127.0.0.1, as Host and Origin.
      const rebound = { Host: 'evil.example:3101', Origin: 'http://evil.example:3101' };
      const post = await rawRequest(`${server.url}/api/project/build`, formPost(rebound));
      expectCode(post, 403, 'forbidden_host');
      expect(post.json.error.message).toContain('Host "evil.example:3101" is not allowed');
      expect(post.json.error.message).toMatch(/localhost, IP addresses.*ALLOWED_HOSTS or PUBLIC_URL/);
      for (const path of ['/', '/index.html', '/js/api-client.js', '/metrics', '/api/builds', '/api/projects', '/api/log/push', '/api/nothing', '/healthz/x']) {
        const response = await rawRequest(`${server.url}${path}`, { headers: rebound });
        expect([path, response.status, response.json?.error?.code]).toEqual([path, 403, 'forbidden_host']);
      }
      const preflight = await rawRequest(`${server.url}/api/project/build`, { method: 'OPTIONS', headers: { ...rebound, 'Access-Control-Request-Method': 'POST' } });
      expectCode(preflight, 403, 'forbidden_host');
      expect((await rawRequest(`${server.url}/healthz`, { headers: rebound })).json).toEqual({ status: 'ok' });
      expect((await request(`${server.url}/api/builds`)).json.builds).toEqual([]); // nothing was started

      // The request log shows what was received.
      await waitFor(() => capture.lines().some((line) => line.includes('"url":"/api/log/push"')), 'the stream refusal to be logged');
      const logged = capture.lines().map((line) => JSON.parse(line)).filter((entry) => entry.msg === 'request' && entry.status === 403);
      expect(logged.find((entry) => entry.url === '/api/project/build')).toMatchObject({ host: 'evil.example:3101', origin: 'http://evil.example:3101' });
      expect(logged.find((entry) => entry.url === '/api/log/push')).toMatchObject({ host: 'evil.example:3101', origin: 'http://evil.example:3101' });
    } finally {
      await server.stop();
    }
  });

  it('allows localhost, IP literals, the host of PUBLIC_URL and ALLOWED_HOSTS, in any case and with any port', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, PUBLIC_URL: 'https://builds.example.com', ALLOWED_HOSTS: 'ci.internal,other.internal' });
    try {
      const { port } = server;
      for (const host of [`localhost:${port}`, 'LocalHost', `127.0.0.1:${port}`, `[::1]:${port}`, '10.0.0.5', 'builds.example.com', 'Builds.Example.COM:443', 'ci.internal:8080', 'other.internal']) {
        expect([host, (await rawRequest(`${server.url}/api/builds`, { headers: { Host: host } })).status]).toEqual([host, 200]);
      }
      for (const host of ['evil.example', 'localhost.evil.example', '127.0.0.1.evil.example', 'example.com', 'ci.internal.evil.example']) {
        const response = await rawRequest(`${server.url}/api/builds`, { headers: { Host: host } });
        expect([host, response.status, response.json?.error?.code]).toEqual([host, 403, 'forbidden_host']);
        expect(response.json.error.message).toContain('builds.example.com (PUBLIC_URL), ci.internal, other.internal (ALLOWED_HOSTS)');
      }
    } finally {
      await server.stop();
    }
  });

  it('allows any host with ALLOWED_HOSTS=*', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, ALLOWED_HOSTS: '*' });
    try {
      expect((await rawRequest(`${server.url}/api/builds`, { headers: { Host: 'anything.example:1' } })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('answers forbidden_host before 401, and 401 before forbidden_origin, on Koa routes and on the stream', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, AUTH_TOKEN: TOKEN });
    try {
      for (const path of ['/api/project/build', '/api/log/push']) {
        const method = path === '/api/log/push' ? 'GET' : 'POST';
        expectCode(await rawRequest(`${server.url}${path}`, { method, headers: { Host: 'evil.example', Origin: 'http://evil.example' } }), 403, 'forbidden_host');
        expectCode(await rawRequest(`${server.url}${path}`, { method, headers: { Origin: 'http://evil.example' } }), 401, 'unauthorized');
        expectCode(await rawRequest(`${server.url}${path}`, { method, headers: { ...auth, Origin: 'http://evil.example' } }), 403, 'forbidden_origin');
      }
      expectCode(await rawRequest(`${server.url}/metrics`, { headers: { Host: 'evil.example' } }), 403, 'forbidden_host');
    } finally {
      await server.stop();
    }
  });

  it('behind a TLS proxy with PUBLIC_URL: the page at https://<PUBLIC_URL host> may build and cancel, without CORS headers', async () => {
    const server = await startTestServer({ PROJECTS_ROOT: projects.root, PUBLIC_URL: 'https://builds.example.com' });
    try {
      // What nginx sends with `proxy_set_header Host $host` for a page at https://builds.example.com.
      const page = { Host: 'builds.example.com', Origin: 'https://builds.example.com' };
      const started = await rawRequest(`${server.url}/api/project/build`, { ...formPost(page), body: 'projectPath=slow' });
      expect(started.status).toBe(202);
      expect(started.headers.get('access-control-allow-origin')).toBeNull();
      const cancelled = await rawRequest(`${server.url}/api/builds/${started.json.build.id}/cancel`, { method: 'POST', headers: page });
      expect(cancelled.status).toBe(202);
      await waitForEnd(server.url, started.json.build.id);
      const stream = new SseReader(`${server.url}/api/log/push`, page);
      await stream.connected;
      stream.close();
      expect(stream.status).toBe(200);
      expect(stream.headers['access-control-allow-origin']).toBeUndefined();

      const foreign = await rawRequest(`${server.url}/api/project/build`, formPost({ Host: 'builds.example.com', Origin: 'https://evil.example' }));
      expectCode(foreign, 403, 'forbidden_origin');
      expect(foreign.json.error.message).toContain('Origin "https://evil.example" is not allowed; expected "http://builds.example.com" (this request\'s own origin) or "https://builds.example.com" (PUBLIC_URL)');
      expect(foreign.json.error.message).toMatch(/PUBLIC_URL .*TRUST_PROXY=true.*CORS_ORIGINS/);
    } finally {
      await server.stop();
    }
  });

  it('with TRUST_PROXY=true takes scheme and host from X-Forwarded-Proto and X-Forwarded-Host; without it, ignores them', async () => {
    const trusting = await startTestServer({ PROJECTS_ROOT: projects.root, TRUST_PROXY: 'true', ALLOWED_HOSTS: 'builds.example.com' });
    const plain = await startTestServer({ PROJECTS_ROOT: projects.root });
    try {
      const proxied = { Host: `127.0.0.1:${trusting.port}`, 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'builds.example.com', Origin: 'https://builds.example.com' };
      const started = await rawRequest(`${trusting.url}/api/project/build`, formPost(proxied));
      expect(started.status).toBe(202);
      expect(started.headers.get('access-control-allow-origin')).toBeNull();
      await waitForEnd(trusting.url, started.json.build.id);
      const stream = new SseReader(`${trusting.url}/api/log/push`, proxied);
      await stream.connected;
      stream.close();
      expect(stream.status).toBe(200);
      const rebound = await rawRequest(`${trusting.url}/api/builds`, { headers: { ...proxied, 'X-Forwarded-Host': 'evil.example' } });
      expectCode(rebound, 403, 'forbidden_host');
      expect(rebound.json.error.message).toContain('X-Forwarded-Host "evil.example" is not allowed');

      // Untrusted forwarded headers change nothing: the page at https://localhost is not this http server's own.
      const own = `localhost:${plain.port}`;
      const refused = await rawRequest(`${plain.url}/api/builds`, { headers: { Host: own, 'X-Forwarded-Proto': 'https', Origin: `https://${own}` } });
      expectCode(refused, 403, 'forbidden_origin');
      expect(refused.json.error.message).toContain(`expected "http://${own}" (this request's own origin)`);
      expect((await rawRequest(`${plain.url}/api/builds`, { headers: { Host: own, Origin: `http://${own}` } })).status).toBe(200);
      expect((await rawRequest(`${plain.url}/api/builds`, { headers: { Host: 'evil.example', 'X-Forwarded-Host': 'localhost' } })).status).toBe(403);
    } finally {
      await trusting.stop();
      await plain.stop();
    }
  });
});
