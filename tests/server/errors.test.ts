import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { capturingLogger } from '../helpers/log-capture.js';
import { postJson, rawExchange, request, startBuild, waitForEnd, type JsonResponse } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** A POST with exactly these bytes and headers (fetch would add a Content-Type of its own). */
function rawPost(url: string, body: string | Buffer, headers: Record<string, string>): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'Content-Length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode!, headers: new Headers(res.headers as Record<string, string>), text, json: JSON.parse(text) });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expectError(response: JsonResponse, status: number, code: string): void {
  expect({ status: response.status, code: response.json?.error?.code }).toEqual({ status, code });
  expect(typeof response.json.error.message).toBe('string');
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
}

describe('errors', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  let buildUrl: string;

  beforeAll(async () => {
    projects = makeProjectsRoot();
    projects.configure('slow', { seconds: 30 });
    server = await startTestServer({ PROJECTS_ROOT: projects.root, MAX_CONCURRENT_BUILDS: '1', MAX_QUEUED_BUILDS: '1' });
    buildUrl = `${server.url}/api/project/build`;
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  describe('POST /api/project/build', () => {
    it('415 for a body of another content type, even one over the size limit', async () => {
      expectError(await rawPost(buildUrl, 'projectPath=x', { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
      expectError(await rawPost(buildUrl, 'x'.repeat(20000), { 'Content-Type': 'text/plain' }), 415, 'unsupported_media_type');
      expectError(await rawPost(buildUrl, '{"projectPath":"tricky"}', {}), 415, 'unsupported_media_type');
    });

    it('413 for a body over 16 KiB, even a malformed one', async () => {
      const big = JSON.stringify({ projectPath: 'x'.repeat(17 * 1024) });
      expectError(await rawPost(buildUrl, big, { 'Content-Type': 'application/json' }), 413, 'body_too_large');
      expectError(await rawPost(buildUrl, `{${'x'.repeat(17 * 1024)}`, { 'Content-Type': 'application/json' }), 413, 'body_too_large');
      expectError(await rawPost(buildUrl, `projectPath=${'x'.repeat(17 * 1024)}`, { 'Content-Type': 'application/x-www-form-urlencoded' }), 413, 'body_too_large');
    });

    it.each([
      ['malformed JSON', '{"projectPath":', 'application/json'],
      ['a JSON array', '["tricky"]', 'application/json'],
      ['a JSON string', '"tricky"', 'application/json'],
      ['no projectPath', '{"path":"tricky"}', 'application/json'],
      ['an empty projectPath', '{"projectPath":""}', 'application/json'],
      ['a blank projectPath', '{"projectPath":"   "}', 'application/json'],
      ['a number', '{"projectPath":42}', 'application/json'],
      ['an object', '{"projectPath":{"a":1}}', 'application/json'],
      ['a form without projectPath', 'other=1', 'application/x-www-form-urlencoded'],
      ['a form with projectPath twice', 'projectPath=a&projectPath=b', 'application/x-www-form-urlencoded'],
      ['a NUL in the path', JSON.stringify({ projectPath: 'tricky\u0000' }), 'application/json'],
    ])('400 invalid_body for %s', async (_what, body, type) => {
      expectError(await rawPost(buildUrl, body, { 'Content-Type': type }), 400, 'invalid_body');
    });

    it('400 invalid_body for a JSON content type without a body', async () => {
      expectError(await rawPost(buildUrl, '', { 'Content-Type': 'application/json' }), 400, 'invalid_body');
    });

    it.each([
      ['an absolute path elsewhere', '/etc'],
      ['a path that climbs out', '../outside/evil'],
      ['a symlink that leads out', 'escape-link'],
      ['a missing folder behind a symlink that leads out', 'escape-link/missing'],
      ['a missing folder outside', '/nonexistent/project'],
    ])('403 outside_roots for %s', async (_what, projectPath) => {
      expectError(await postJson(buildUrl, { projectPath }), 403, 'outside_roots');
    });

    it('runs nothing outside the roots', async () => {
      await postJson(buildUrl, { projectPath: 'escape-link' });
      expect(fs.existsSync(path.join(projects.outside, 'yarn.lock'))).toBe(false);
    });

    it.each([
      ['a project without a build script', 'nobuild'],
      ['a missing folder', 'no-such-project'],
      ['a file', 'fixture-options.cjs'],
      ['a folder without package.json', '.'],
      ['shell metacharacters, which are only characters of a path', 'tricky; touch /tmp/pwned-by-buildlog $(id) `id` | cat'],
    ])('400 not_a_project for %s', async (_what, projectPath) => {
      expectError(await postJson(buildUrl, { projectPath }), 400, 'not_a_project');
      expect(fs.existsSync('/tmp/pwned-by-buildlog')).toBe(false);
    });

    it('400 for an Idempotency-Key that is not 1-200 visible ASCII characters', async () => {
      const tooLong = await postJson(buildUrl, { projectPath: 'failing' }, { 'Idempotency-Key': 'k'.repeat(201) });
      expectError(tooLong, 400, 'invalid_idempotency_key');
    });

    it('409 already_building with the build, then 429 queue_full when MAX_QUEUED_BUILDS wait', async () => {
      const running = await startBuild(server.url, 'slow');
      const conflict = await postJson(buildUrl, { projectPath: 'slow' });
      expectError(conflict, 409, 'already_building');
      expect(conflict.json.build.id).toBe(running.id);

      const queued = await startBuild(server.url, 'failing'); // waits: one build runs at a time
      const again = await postJson(buildUrl, { projectPath: projects.project('failing') });
      expectError(again, 409, 'already_building');
      expect(again.json.build).toMatchObject({ id: queued.id, status: 'queued' });

      const full = await postJson(buildUrl, { projectPath: 'tricky' });
      expectError(full, 429, 'queue_full');

      // An error of an earlier kind wins over 409 and 429.
      expectError(await postJson(buildUrl, { projectPath: 'nobuild' }), 400, 'not_a_project');
      expectError(await postJson(buildUrl, { projectPath: '/etc' }), 403, 'outside_roots');

      await request(`${server.url}/api/builds/${running.id}/cancel`, { method: 'POST' });
      await waitForEnd(server.url, queued.id, 30000);
    }, 40000);
  });

  describe('builds and routes', () => {
    it('404 build_not_found for an unknown build on every build route', async () => {
      for (const url of ['/api/builds/0000000000zzzz', '/api/builds/0000000000zzzz/log', '/api/log/push?build=0000000000zzzz', '/api/builds/..%2F..%2Fetc/log']) {
        expectError(await request(`${server.url}${url}`), 404, 'build_not_found');
      }
      expectError(await request(`${server.url}/api/builds/0000000000zzzz/cancel`, { method: 'POST' }), 404, 'build_not_found');
    });

    it('409 not_running when cancelling a build that is over', async () => {
      const build = await startBuild(server.url, 'failing');
      await waitForEnd(server.url, build.id);
      const response = await request(`${server.url}/api/builds/${build.id}/cancel`, { method: 'POST' });
      expectError(response, 409, 'not_running');
      expect(response.json.build.status).toBe('failed');
    });

    it('400 for a list limit that is not a positive integer', async () => {
      for (const limit of ['abc', '0', '-1', '1.5']) expectError(await request(`${server.url}/api/builds?limit=${limit}`), 400, 'invalid_query');
    });

    it('a JSON 404 for an unknown route and 405 for a wrong method', async () => {
      expectError(await request(`${server.url}/api/nothing-here`), 404, 'not_found');
      expectError(await request(`${server.url}/api/builds`, { method: 'DELETE' }), 405, 'method_not_allowed');
      const post = await request(`${server.url}/api/log/push`, { method: 'POST' });
      expectError(post, 405, 'method_not_allowed');
      expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    });
  });
});

describe('every answer carries a JSON error body, also for requests that are not valid', () => {
  let server: TestServer;
  let logs: () => string[];

  beforeAll(async () => {
    const capture = capturingLogger();
    logs = capture.lines;
    server = await startTestServer({}, { logger: capture.logger });
  });

  afterAll(async () => {
    await server?.stop();
  });

  const host = 'Host: 127.0.0.1\r\nConnection: close\r\n';
  it.each([
    ['TRACE /', `TRACE / HTTP/1.1\r\n${host}\r\n`, 405, 'method_not_allowed'],
    ['a method no route takes (PROPFIND)', `PROPFIND /api/builds HTTP/1.1\r\n${host}\r\n`, 405, 'method_not_allowed'],
    ['a method Node does not know (FOO)', `FOO / HTTP/1.1\r\n${host}\r\n`, 405, 'method_not_allowed'],
    ['a path that names an absolute file (//etc/passwd)', `GET //etc/passwd HTTP/1.1\r\n${host}\r\n`, 404, 'not_found'],
    ['a NUL byte in a path (/index.html%00.js)', `GET /index.html%00.js HTTP/1.1\r\n${host}\r\n`, 400, 'bad_path'],
    ['an escape that does not decode', `GET /%E0%A4%A HTTP/1.1\r\n${host}\r\n`, 400, 'bad_path'],
    ['a static path that climbs out (/../../etc/passwd)', `GET /../../etc/passwd HTTP/1.1\r\n${host}\r\n`, 403, 'path_traversal'],
    ['an encoded climb (/%2e%2e/%2e%2e/etc/passwd)', `GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n${host}\r\n`, 403, 'path_traversal'],
    ['headers over 16 KiB', `GET / HTTP/1.1\r\n${host}X-Big: ${'a'.repeat(20000)}\r\n\r\n`, 431, 'headers_too_large'],
    ['garbage instead of a request line', 'garbage\r\n\r\n', 400, 'bad_request'],
    ['a header line without a colon', `GET / HTTP/1.1\r\n${host}Bad Header\r\n\r\n`, 400, 'bad_request'],
    ['Content-Length beside Transfer-Encoding', `POST /api/project/build HTTP/1.1\r\n${host}Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`, 400, 'bad_request'],
    ['an HTTP/1.1 request without Host', 'GET /api/builds HTTP/1.1\r\nConnection: close\r\n\r\n', 403, 'forbidden_host'],
  ])('%s', async (_what, bytes, status, code) => {
    const response = await rawExchange(server.port, bytes);
    expect({ status: response.status, code: response.json?.error?.code }).toEqual({ status, code });
    expect(typeof response.json.error.message).toBe('string');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(Number(response.headers.get('content-length'))).toBe(Buffer.byteLength(response.text));
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    if (status === 405) expect(response.headers.get('allow')).toMatch(/^[A-Z, ]+$/);
  });

  it('logs no stack trace for any of them: none is a server error', () => {
    const errors = logs().filter((line) => JSON.parse(line).level >= 50);
    expect(errors).toEqual([]);
  });
});
