import net from 'node:net';
import { request } from '../helpers/http.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { sleep, waitFor } from '../helpers/wait.js';

async function openStreams(server: TestServer): Promise<number> {
  const text = (await request(`${server.url}/metrics`)).text;
  return Number(text.split('\n').find((l) => l.startsWith('buildlog_sse_clients '))!.split(' ')[1]);
}

/**
 * A client whose host vanishes without a word (no FIN, no RST: a pulled cable, a reboot)
 * and, like a rebooted host, answers the next segment it gets for that connection with RST.
 */
function vanishingClient(port: number): { connected: Promise<void>; vanish(): void; written: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  let isGone = false;
  let onWritten: () => void = () => {};
  /** Resolves when the server writes to the vanished client (and gets the RST). */
  const written = new Promise<void>((resolve) => (onWritten = resolve));
  socket.on('error', () => {});
  socket.on('data', () => {
    if (!isGone) return;
    socket.resetAndDestroy();
    onWritten();
  });
  const connected = new Promise<void>((resolve) => {
    socket.once('connect', () => {
      socket.write('GET /api/log/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n');
      socket.once('data', () => resolve());
    });
  });
  return { connected, vanish: () => (isGone = true), written };
}

describe('a half-open connection', () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer({ HEARTBEAT_MS: '500' });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it('is found by the heartbeat\'s failed write and its slot released', async () => {
    const client = vanishingClient(server.port);
    await client.connected;
    expect(await openStreams(server)).toBe(1);

    client.vanish();
    expect(await openStreams(server)).toBe(1); // nothing tells the server yet...
    // ...until a heartbeat is written: the peer answers RST and the slot frees.
    await waitFor(() => Promise.race([client.written.then(() => true), sleep(50).then(() => false)]), 'a heartbeat to reach the vanished client', 5000);
    await waitFor(async () => (await openStreams(server)) === 0, 'the slot to be released after the heartbeat', 5000);
  });
});
