import http from 'node:http';
import net from 'node:net';

/** A response read whole, with its JSON body when it has one. */
export interface JsonResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

export async function request(url: string, init: RequestInit = {}): Promise<JsonResponse> {
  const response = await fetch(url, init);
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
  return request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

/** POSTs a build and insists on 202; returns the Build. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function startBuild(baseUrl: string, projectPath: string, headers: Record<string, string> = {}): Promise<any> {
  const response = await postJson(`${baseUrl}/api/project/build`, { projectPath }, headers);
  if (response.status !== 202) throw new Error(`POST ${projectPath}: ${response.status} ${response.text}`);
  return response.json.build;
}

const TERMINAL = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'];

/** Polls a build until it has a final status; returns it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function waitForEnd(baseUrl: string, id: string, timeoutMs = 30000, headers: Record<string, string> = {}): Promise<any> {
  return waitForBuild(baseUrl, id, (build) => TERMINAL.includes(build.status), timeoutMs, headers);
}

export async function waitForBuild(
  baseUrl: string,
  id: string,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  accept: (build: any) => boolean,
  timeoutMs = 30000,
  headers: Record<string, string> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await request(`${baseUrl}/api/builds/${id}`, { headers });
    if (response.status === 200 && accept(response.json)) return response.json;
    if (Date.now() > deadline) throw new Error(`build ${id} did not get there in ${timeoutMs} ms: ${response.text.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A request with exactly these headers, Host included (fetch sets Host and Content-Type
 * itself), on a connection of its own. The body is parsed as JSON when it is JSON.
 */
export function rawRequest(url: string, { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<JsonResponse> {
  return new Promise((resolve, reject) => {
    const withLength = body === undefined ? headers : { 'Content-Length': String(Buffer.byteLength(body)), ...headers };
    const req = http.request(url, { method, agent: false, headers: withLength }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) responseHeaders.set(name, Array.isArray(value) ? value.join(', ') : value);
        resolve({ status: res.statusCode!, headers: responseHeaders, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sends these exact bytes on a new TCP connection and reads the answer until the server
 * closes it: for requests that fetch and node:http refuse to send (bad methods, garbage,
 * oversized headers). The status, headers and JSON body are parsed from the raw response.
 */
export function rawExchange(port: number, bytes: string): Promise<JsonResponse & { raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      // The server may close while we still send (a 431 mid-headers); what it answered counts.
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      const raw = Buffer.concat(chunks).toString();
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...headerLines] = head.split('\r\n');
      const headers = new Headers();
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const text = rest.join('\r\n\r\n');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, text, json, raw });
    });
  });
}
