import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

describe('the browser modules that <build-log> loads from another origin', () => {
  let projects: ProjectsRoot;
  let server: TestServer;
  const foreign = { Origin: 'https://dashboard.example' };

  beforeAll(async () => {
    projects = makeProjectsRoot();
    // Another origin is listed: the modules then load on any page, which the element needs to say that its origin is not.
    server = await startTestServer({ PROJECTS_ROOT: projects.root, CORS_ORIGINS: 'https://other.example' });
  });

  afterAll(async () => {
    await server?.stop();
    projects?.remove();
  });

  it.each(['/embed.js', '/client.js', '/js/build-log-element.js', '/js/log-view.js', '/vendor/ansi_up.js'])(
    'serves %s as JavaScript with Access-Control-Allow-Origin: * once CORS_ORIGINS is set, also to an origin it does not list',
    async (path) => {
      const response = await fetch(`${server.url}${path}`, { headers: foreign });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^(application|text)\/javascript/);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
    },
  );

  it('sends no CORS header at all, on modules either, while CORS_ORIGINS is unset (same-origin only)', async () => {
    const plain = await startTestServer({ PROJECTS_ROOT: projects.root });
    try {
      for (const path of ['/embed.js', '/client.js', '/js/log-view.js', '/api/builds']) {
        const response = await fetch(`${plain.url}${path}`, { headers: foreign });
        expect([path, response.headers.get('access-control-allow-origin')]).toEqual([path, null]);
      }
    } finally {
      await plain.stop();
    }
  });

  it('keeps the API, the page and its stylesheet to CORS_ORIGINS', async () => {
    for (const path of ['/', '/index.html', '/log-view.css', '/healthz']) {
      const response = await fetch(`${server.url}${path}`, { headers: foreign });
      expect([path, response.status, response.headers.get('access-control-allow-origin')]).toEqual([path, 200, null]);
    }
    const api = await fetch(`${server.url}/api/builds`, { headers: foreign });
    expect([api.status, api.headers.get('access-control-allow-origin')]).toEqual([403, null]);
  });

  it('answers 404 for a module path that names no file, with no CORS header', async () => {
    const response = await fetch(`${server.url}/js/no-such-module.js`, { headers: foreign });
    expect([response.status, response.headers.get('access-control-allow-origin')]).toEqual([404, null]);
  });

  it('sends the listed origin, not *, when CORS_ORIGINS allows the page', async () => {
    const listed = await startTestServer({ PROJECTS_ROOT: projects.root, CORS_ORIGINS: 'https://dashboard.example' });
    try {
      const response = await fetch(`${listed.url}/embed.js`, { headers: foreign });
      expect(response.headers.get('access-control-allow-origin')).toBe('https://dashboard.example');
      const api = await fetch(`${listed.url}/api/builds`, { headers: foreign });
      expect([api.status, api.headers.get('access-control-allow-origin')]).toEqual([200, 'https://dashboard.example']);
    } finally {
      await listed.stop();
    }
  });
});
