import net from 'node:net';

/** A port of 127.0.0.1 that nothing listened on a moment ago (for a peer to start on, or to find closed). */
export async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
