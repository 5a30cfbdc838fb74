import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/** Where a request came from and what it addressed, as the server should judge it. */
export interface RequestAddress {
  /** `https` when TLS (or, with TRUST_PROXY, X-Forwarded-Proto) says so. */
  readonly scheme: 'http' | 'https';
  /** The addressed host as sent, port included (`localhost:3000`); '' when none was sent. */
  readonly host: string;
  /** The host name alone, lower case, IPv6 without brackets: what ALLOWED_HOSTS lists. */
  readonly hostname: string;
  /** The client's IP address (with TRUST_PROXY, the last hop's X-Forwarded-For entry). */
  readonly clientAddress: string;
}

/** What the socket itself says, apart from any header. */
export interface SocketFacts {
  readonly isEncrypted: boolean;
  readonly remoteAddress: string | undefined;
}

/**
 * Reads the scheme, host and client address of a request. Behind a trusted proxy they come
 * from the X-Forwarded-* headers, taking the last entry of each list: that is the one our own
 * proxy appended, while earlier entries are whatever the client chose to send.
 */
export function requestAddress(headers: IncomingHttpHeaders, socket: SocketFacts, trustProxy: boolean): RequestAddress {
  const forwardedProto = trustProxy ? lastEntry(headers['x-forwarded-proto']) : undefined;
  const forwardedHost = trustProxy ? lastEntry(headers['x-forwarded-host']) : undefined;
  const forwardedFor = trustProxy ? lastEntry(headers['x-forwarded-for']) : undefined;
  const scheme = forwardedProto !== undefined ? (forwardedProto.toLowerCase() === 'https' ? 'https' : 'http') : socket.isEncrypted ? 'https' : 'http';
  const host = forwardedHost ?? headers.host ?? '';
  return {
    scheme,
    host,
    hostname: hostnameOf(host),
    clientAddress: normalizeAddress(forwardedFor ?? socket.remoteAddress ?? ''),
  };
}

/** requestAddress of a Node request, with the facts of its own socket. */
export function addressOfRequest(req: IncomingMessage, trustProxy: boolean): RequestAddress {
  const socket = req.socket as IncomingMessage['socket'] & { encrypted?: boolean };
  return requestAddress(req.headers, { isEncrypted: socket.encrypted === true, remoteAddress: socket.remoteAddress }, trustProxy);
}

/** `Example.com:8080` → `example.com`; `[::1]:3000` → `::1`. */
export function hostnameOf(host: string): string {
  const lower = host.trim().toLowerCase();
  if (lower.startsWith('[')) {
    const close = lower.indexOf(']');
    return close === -1 ? lower : lower.slice(1, close);
  }
  const colon = lower.indexOf(':');
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** An IPv4 peer seen through a dual-stack socket (`::ffff:1.2.3.4`) is the same client as `1.2.3.4`. */
function normalizeAddress(address: string): string {
  const trimmed = address.trim();
  return trimmed.startsWith('::ffff:') && trimmed.includes('.') ? trimmed.slice(7) : trimmed;
}

function lastEntry(value: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(value) ? value.join(',') : value;
  if (joined === undefined) return undefined;
  const entries = joined.split(',').map((s) => s.trim()).filter(Boolean);
  return entries.at(-1);
}
