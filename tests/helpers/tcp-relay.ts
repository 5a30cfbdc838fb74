import net from 'node:net';

/**
 * A port of 127.0.0.1 that stays put while the server behind it stops and starts again, for
 * tests of a restart. Starting the new server on the old server's port would race: once the
 * port is free, any process of the machine may take it (another test's server on port 0, an
 * outgoing connection), so such a test fails under load although nothing is broken. Here every
 * server listens on a port of its own and the relay, which holds its port for the whole test,
 * sends the bytes through unchanged (the Host header names the relay, as clients see it).
 */
export interface TcpRelay {
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /**
   * Where new connections go: a port of 127.0.0.1, or null while the server is down; a
   * connection then fails at once (reset), as one to a port nobody listens on is refused.
   */
  forwardTo(port: number | null): void;
  /** Stops listening and drops every connection (idempotent). */
  close(): Promise<void>;
}

/** Starts a relay on a free port of 127.0.0.1, forwarding to `targetPort` (or nowhere yet). */
export async function startTcpRelay(targetPort: number | null = null): Promise<TcpRelay> {
  let target = targetPort;
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  const server = net.createServer((client) => {
    track(client);
    client.on('error', () => {}); // a reset from either side; 'close' follows and tidies up
    if (target === null) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    track(upstream);
    // Whichever side goes first takes the other with it: a server that drops a connection
    // drops it for the client too, and a client that goes away frees the server's slot.
    upstream.on('error', () => {
      if (!client.destroyed) client.resetAndDestroy();
    });
    upstream.once('close', () => client.destroy());
    client.once('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    forwardTo(nextPort) {
      target = nextPort;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
