import net from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { Config } from '../config.js';
import { ForbiddenHostError, ForbiddenOriginError } from './http-errors.js';
import type { RequestAddress } from './request-address.js';

/** The settings the two checks read (API.md, "Hosts and origins"). */
export type HostOriginSettings = Pick<Config, 'publicUrl' | 'allowedHosts' | 'corsOrigins' | 'trustProxy'>;

/** The decisions of "Hosts and origins", shared by the Koa middleware and the stream endpoint. */
export interface HostOriginPolicy {
  /** null when the request may address this host; else the 403 forbidden_host to answer. */
  checkHost(address: RequestAddress, headers: IncomingHttpHeaders): ForbiddenHostError | null;
  /** null when the request has no Origin or an allowed one; else the 403 forbidden_origin. */
  checkOrigin(origin: string | undefined, address: RequestAddress): ForbiddenOriginError | null;
}

/**
 * Builds the policy once from the config. Hosts guard against DNS rebinding (a page on
 * evil.example whose name now points at 127.0.0.1 still sends `Host: evil.example`); origins
 * guard against cross-site forms and scripts. Pure: it reads only what it is given.
 */
export function hostOriginPolicy(settings: HostOriginSettings): HostOriginPolicy {
  const { publicUrl, allowedHosts, corsOrigins, trustProxy } = settings;
  const allowedList = describeAllowedHosts(settings);
  return {
    checkHost(address, headers) {
      if (isHostAllowed(address.hostname)) return null;
      const source = trustProxy && headers['x-forwarded-host'] !== undefined ? 'X-Forwarded-Host' : 'Host';
      const received = address.host === '' ? `The request names no host (no ${source} header)` : `${source} ${JSON.stringify(clip(address.host))} is not allowed`;
      return new ForbiddenHostError(`${received}; allowed: ${allowedList}; set ALLOWED_HOSTS or PUBLIC_URL to allow it.`);
    },
    checkOrigin(origin, address) {
      if (origin === undefined || origin === '') return null;
      if (corsOrigins === '*') return null;
      const received = normalizeOrigin(origin);
      const own = ownOrigin(address);
      if (received !== null) {
        if (received === own || received === publicUrl?.origin) return null;
        if (corsOrigins !== null && corsOrigins.includes(received)) return null;
      }
      const expected = [
        `${JSON.stringify(own ?? `${address.scheme}://${address.host}`)} (this request's own origin)`,
        ...(publicUrl ? [`${JSON.stringify(publicUrl.origin)} (PUBLIC_URL)`] : []),
        ...(corsOrigins !== null ? [`one of CORS_ORIGINS (${corsOrigins.join(', ')})`] : []),
      ];
      return new ForbiddenOriginError(
        `Origin ${JSON.stringify(clip(origin))} is not allowed; expected ${expected.join(' or ')}; ` +
          'set PUBLIC_URL (or TRUST_PROXY=true behind a proxy that sends X-Forwarded-Proto and X-Forwarded-Host), or CORS_ORIGINS, to allow it.',
      );
    },
  };

  function isHostAllowed(hostname: string): boolean {
    if (allowedHosts === '*') return true;
    if (hostname === '') return false;
    if (hostname === 'localhost' || net.isIP(hostname) !== 0) return true;
    return hostname === publicUrl?.hostname || allowedHosts.includes(hostname);
  }
}

/** Only GET /healthz answers whatever host a request names: load balancers probe it by IP or by any name. */
export function isHostCheckExempt(method: string, path: string): boolean {
  return path === '/healthz' && (method === 'GET' || method === 'HEAD');
}

/** A request's own origin: its scheme (TLS, or a trusted X-Forwarded-Proto) + `://` + its host. */
export function ownOrigin(address: RequestAddress): string | null {
  if (address.host === '') return null;
  return normalizeOrigin(`${address.scheme}://${address.host}`);
}

/**
 * An origin as browsers serialize it (lower-case host, no default port), so `https://Host:443`
 * and `https://host` compare equal; null for `null`, other schemes and anything unparsable.
 */
export function normalizeOrigin(origin: string): string | null {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  return url.origin;
}

function describeAllowedHosts({ publicUrl, allowedHosts }: HostOriginSettings): string {
  const parts = ['localhost', 'IP addresses'];
  if (publicUrl) parts.push(`${publicUrl.hostname} (PUBLIC_URL)`);
  if (allowedHosts !== '*' && allowedHosts.length > 0) parts.push(`${allowedHosts.join(', ')} (ALLOWED_HOSTS)`);
  return parts.join(', ');
}

/** A header value as quoted in a message: bounded, whatever the client sent. */
function clip(value: string): string {
  return value.length > 200 ? `${value.slice(0, 200)}...` : value;
}
