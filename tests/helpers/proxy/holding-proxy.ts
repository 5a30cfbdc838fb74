import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the little proxy does on its way to the server. */
export interface HoldingProxyOptions {
  /** Hold back the body of every event stream (its headers still go at once) until release(). */
  readonly holdsStreams: boolean;
  /** `upstream` sends the server its own address as Host, as `proxy_set_header Host $proxy_host` does. */
  readonly hostHeader: 'client' | 'upstream';
}

/** A running proxy; what it holds, and the hand that lets it go. */
export interface HoldingProxy {
  readonly url: string;
  /** Heartbeat comments held back so far, over all streams. */
  heldPings(): number;
  /** How long the first stream still held has been held, in ms (0 when none is). */
  heldForMs(): number;
  /** Lets everything held so far go, each stream's bytes in one write, and stops holding. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A deterministic stand-in for a misconfigured reverse proxy, in plain HTTP: it forwards
 * every request to the server, and can hold the streams' bytes back like a buffering proxy
 * (then let them go at once: a clump) or send the wrong Host.
 */
export async function startHoldingProxy(upstreamUrl: string, options: HoldingProxyOptions): Promise<HoldingProxy> {
  const upstream = new URL(upstreamUrl);
  const held = new Map<http.ServerResponse, Buffer[]>();
  const heldSince = new Map<http.ServerResponse, number>();
  let isHolding = options.holdsStreams;
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((request, response) => {
    const headers = { ...request.headers, host: options.hostHeader === 'upstream' ? upstream.host : request.headers.host };
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      const isStream = String(answer.headers['content-type'] ?? '').startsWith('text/event-stream');
      if (!isStream || !isHolding) {
        answer.pipe(response);
        return;
      }
      response.flushHeaders();
      held.set(response, []);
      heldSince.set(response, Date.now());
      answer.on('data', (chunk: Buffer) => {
        const chunks = held.get(response);
        if (chunks) chunks.push(chunk);
        else response.write(chunk);
      });
      answer.on('end', () => response.end());
      response.on('close', () => {
        held.delete(response);
        heldSince.delete(response);
        answer.destroy();
      });
    });
    forward.on('error', () => response.destroy());
    response.on('close', () => forward.destroy());
    request.pipe(forward);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}`,
    heldPings: () => {
      let count = 0;
      for (const chunks of held.values()) count += (Buffer.concat(chunks).toString('utf8').match(/^:/gm) ?? []).length;
      return count;
    },
    heldForMs: () => {
      const first = Math.min(...heldSince.values());
      return Number.isFinite(first) ? Date.now() - first : 0;
    },
    release: () => {
      isHolding = false;
      for (const [response, chunks] of held) {
        held.delete(response);
        heldSince.delete(response);
        response.write(Buffer.concat(chunks));
      }
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
