/** An error answer of the server: `{ error: { code, message } }` and the HTTP status. */
export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/**
 * fetch for /api/* with the access token as `Authorization: Bearer <t>`. A 401 asks for a
 * token (first from the other tabs, then from the user) and tries again.
 * The token never goes into a URL here; only EventSource, which cannot set headers, needs that.
 */
/** The API calls the page makes, with the token and one retry after asking for it. */
export function createApiClient({ tokens, askToken }) {
  async function send(path, init = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const headers = new Headers(init.headers);
      const token = tokens.get();
      if (token) headers.set('Authorization', `Bearer ${token}`);
      const response = await fetch(path, { ...init, headers });
      if (response.status !== 401 || attempt >= 5) return response;
      if ((await askToken(token !== null)) === null) return response; // the user said no
    }
  }

  /** Sends a request and reads its JSON; throws ApiError for an error status. */
  async function json(path, init = {}) {
    const response = await send(path, init);
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      const error = body?.error ?? {};
      throw new ApiError(response.status, error.code ?? 'http_error', error.message ?? `The server answered ${response.status}.`, body);
    }
    return { status: response.status, body };
  }

  return {
    send,
    json,
    projects: () => json('/api/projects').then(({ body }) => body.projects),
    builds: (limit = 50) => json(`/api/builds?limit=${limit}`).then(({ body }) => body.builds),
    workers: () => json('/api/workers').then(({ body }) => body.workers),
    build: (id) => json(`/api/builds/${encodeURIComponent(id)}`).then(({ body }) => body),
    startBuild: (projectPath) =>
      json('/api/project/build', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ projectPath }) }),
    cancel: (id) => json(`/api/builds/${encodeURIComponent(id)}/cancel`, { method: 'POST' }).then(({ body }) => body.build),
    rawLog: (id) => send(`/api/builds/${encodeURIComponent(id)}/log?raw=1`),
  };
}
