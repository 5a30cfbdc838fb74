import tls from 'node:tls';
import { noted, passed, type Finding } from './finding.js';

/** How long the TLS handshake that asks for the protocol may take. */
const HANDSHAKE_TIMEOUT_MS = 5000;

/**
 * The protocol a browser would get from an https server: the one ALPN settles on when h2 and
 * http/1.1 are offered. Null when the handshake fails (the other checks say why).
 */
export function negotiateProtocol(url: URL, signal: AbortSignal): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 443),
      servername: /^[\d.]+$|:/.test(url.hostname) ? undefined : url.hostname,
      ALPNProtocols: ['h2', 'http/1.1'],
    });
    const finish = (protocol: string | null) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(protocol);
    };
    const onAbort = () => finish(null);
    signal.addEventListener('abort', onAbort);
    const timer = setTimeout(() => finish(null), HANDSHAKE_TIMEOUT_MS);
    socket.once('secureConnect', () => finish(socket.alpnProtocol || 'http/1.1'));
    socket.once('error', () => finish(null));
  });
}

/** What the protocol means for the page: HTTP/1.1 caps a browser at 6 connections per server. */
export function httpVersionFinding(url: URL, protocol: string | null): Finding | null {
  if (url.protocol === 'http:') {
    return noted('plain http: HTTP/1.1, fine on your own machine; behind a proxy serve https with HTTP/2 (browsers allow only 6 HTTP/1.1 connections per server, and every open build is a stream)');
  }
  if (protocol === null) return null;
  if (protocol === 'h2') return passed('HTTP/2 (ALPN h2): the page\'s streams share one connection');
  return noted(`${protocol} over TLS, no HTTP/2: browsers allow 6 connections per server (the page shares its streams between tabs); turn HTTP/2 on in the proxy (nginx: http2 on)`);
}
