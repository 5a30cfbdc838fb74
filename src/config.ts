import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { InheritedEnv } from './builds/build-env.js';
import { repoRoot } from './paths.js';

/** Every setting of the server, parsed and validated once from the environment. */
export interface Config {
  readonly port: number;
  readonly host: string;
  readonly projectsRoots: readonly string[];
  readonly dataDir: string;
  readonly maxClients: number;
  readonly heartbeatMs: number;
  readonly retryMs: number;
  readonly maxConcurrentBuilds: number;
  readonly maxQueuedBuilds: number;
  readonly buildTimeoutMs: number;
  readonly authToken: string | null;
  /** null: same-origin only; '*': any origin; otherwise the allowed origins. */
  readonly corsOrigins: '*' | readonly string[] | null;
  readonly yarnBin: string;
  /** The address people and bots use (PUBLIC_URL), when it is not the one listened on. */
  readonly publicUrl: PublicUrl | null;
  /** Take scheme, host and client address from X-Forwarded-* (TRUST_PROXY). */
  readonly trustProxy: boolean;
  /** Host names (lower case, no port) requests may address beside the built-in ones, or '*'. */
  readonly allowedHosts: '*' | readonly string[];
  /** Streams one client address may hold; 0 = no limit of its own. */
  readonly maxClientsPerAddress: number;
  /** Finished builds kept per project; 0 = no limit. */
  readonly keepBuilds: number;
  /** Finished builds older than this are deleted; 0 = no limit. */
  readonly keepDays: number;
  readonly logLevel: LogLevel;
  /** What builds inherit of the server's environment: PATH, HOME, LANG. */
  readonly inheritedEnv: InheritedEnv;
  /** Where each build's own TMPDIR is made (the server's TMPDIR). */
  readonly tmpRoot: string;
  /** The cluster's Redis (REDIS_URL); null: one process keeps everything itself. */
  readonly redisUrl: string | null;
  /** Prefix of every Redis key of this cluster (REDIS_PREFIX). */
  readonly redisPrefix: string;
  /** What this process does (ROLE): serve HTTP, run builds, or both. */
  readonly role: Role;
  /** How this process appears in build records and GET /api/workers (WORKER_NAME). */
  readonly workerName: string;
  /** A worker whose heartbeat is older than this is lost (WORKER_LOST_MS). */
  readonly workerLostMs: number;
}

export const ROLES = ['all', 'api', 'worker'] as const;
export type Role = (typeof ROLES)[number];

/** PUBLIC_URL, taken apart once. */
export interface PublicUrl {
  readonly href: string;
  /** `https://builds.example.com`: the page's own origin. */
  readonly origin: string;
  /** The host name without port, lower case: an allowed host. */
  readonly hostname: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A bad setting; its message is the one line printed before the server refuses to start. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Reads the contract's variables (plus LOG_LEVEL) from env. Relative paths are taken from
 * cwd. Throws ConfigError naming the first bad variable and the value it got.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const setting = <T>(name: string, schema: z.ZodType<T>, fallback: T): T => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const parsed = schema.safeParse(raw);
    if (parsed.success) return parsed.data;
    throw new ConfigError(`${name} ${parsed.error.issues[0]?.message ?? 'is not valid'}, got "${raw}"`);
  };

  const yarnBin = read('YARN_BIN');
  return Object.freeze({
    port: setting('PORT', integer(0, 65535), 3000),
    host: read('HOST') ?? '127.0.0.1',
    projectsRoots: Object.freeze(parseProjectsRoots(read('PROJECTS_ROOT'), cwd)),
    dataDir: path.resolve(cwd, read('DATA_DIR') ?? './data'),
    maxClients: setting('MAX_CLIENTS', integer(1), 100),
    heartbeatMs: setting('HEARTBEAT_MS', integer(10, MAX_TIMER_MS), 15000),
    retryMs: setting('RETRY_MS', integer(0, MAX_TIMER_MS), 3000),
    maxConcurrentBuilds: setting('MAX_CONCURRENT_BUILDS', integer(1), 2),
    maxQueuedBuilds: setting('MAX_QUEUED_BUILDS', integer(0), 20),
    buildTimeoutMs: setting('BUILD_TIMEOUT_MS', integer(1, MAX_TIMER_MS), 1800000),
    authToken: parseAuthToken(env.AUTH_TOKEN),
    corsOrigins: setting('CORS_ORIGINS', corsOriginsSchema, null),
    yarnBin: yarnBin ? path.resolve(cwd, yarnBin) : defaultYarnBin(),
    publicUrl: setting('PUBLIC_URL', publicUrlSchema, null),
    trustProxy: setting('TRUST_PROXY', booleanSchema, false),
    allowedHosts: setting('ALLOWED_HOSTS', allowedHostsSchema, Object.freeze([])),
    maxClientsPerAddress: setting('MAX_CLIENTS_PER_ADDRESS', integer(0), 25),
    keepBuilds: setting('KEEP_BUILDS', integer(0), 100),
    keepDays: setting('KEEP_DAYS', integer(0, 100000), 30),
    logLevel: setting('LOG_LEVEL', logLevelSchema, 'info'),
    inheritedEnv: Object.freeze({
      path: read('PATH') ?? '/usr/local/bin:/usr/bin:/bin',
      home: read('HOME') ?? os.homedir(),
      lang: read('LANG') ?? 'C.UTF-8',
    }),
    tmpRoot: read('TMPDIR') ?? os.tmpdir(),
    ...clusterSettings(read, setting),
  });
}

/** REDIS_URL, REDIS_PREFIX, ROLE, WORKER_NAME, WORKER_LOST_MS: how this process joins a cluster. */
function clusterSettings(
  read: (name: string) => string | undefined,
  setting: <T>(name: string, schema: z.ZodType<T>, fallback: T) => T,
): Pick<Config, 'redisUrl' | 'redisPrefix' | 'role' | 'workerName' | 'workerLostMs'> {
  const redisUrl = setting('REDIS_URL', redisUrlSchema, null);
  const role = setting('ROLE', z.enum(ROLES, { message: `must be one of ${ROLES.join(', ')}` }), 'all');
  if (role !== 'all' && redisUrl === null) throw new ConfigError(`ROLE=${role} needs REDIS_URL (the cluster's Redis, e.g. redis://127.0.0.1:6379)`);
  return {
    redisUrl,
    redisPrefix: read('REDIS_PREFIX') ?? 'buildlog:',
    role,
    workerName: setting('WORKER_NAME', workerNameSchema, `${os.hostname()}-${process.pid}`),
    workerLostMs: setting('WORKER_LOST_MS', integer(100, MAX_TIMER_MS), 30000),
  };
}

const redisUrlSchema: z.ZodType<string | null> = z.string().refine(
  (raw) => {
    try {
      const url = new URL(raw);
      return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
    } catch {
      return false;
    }
  },
  { message: 'must be a URL like redis://host:6379 (or rediss:// for TLS)' },
);

const workerNameSchema = z.string().regex(/^[\w.@:-]{1,100}$/, { message: 'must be 1 to 100 letters, digits or . _ - @ :' });

/** The yarn that this project installs as its own dependency (yarn@1.22.22). */
export function defaultYarnBin(): string {
  return path.join(repoRoot, 'node_modules', 'yarn', 'bin', 'yarn.js');
}

/** A whole number written in plain digits, between min and max. */
function integer(min: number, max = Number.MAX_SAFE_INTEGER): z.ZodType<number> {
  const kind = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
  return z
    .string()
    .regex(/^\d+$/, { message: `must be ${kind}` })
    .transform(Number)
    .pipe(z.number().min(min, { message: `must be ${kind} no larger than ${max}` }).max(max, { message: `must be ${kind} no larger than ${max}` }));
}

const booleanSchema = z.enum(['true', 'false'], { message: 'must be true or false' }).transform((value) => value === 'true');

const logLevelSchema = z
  .string()
  .transform((value) => value.toLowerCase())
  .pipe(z.enum(LOG_LEVELS, { message: `must be one of ${LOG_LEVELS.join(', ')}` }));

const corsOriginsSchema: z.ZodType<Config['corsOrigins']> = z.string().transform((raw, ctx) => {
  if (raw === '*') return '*' as const;
  const origins: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const origin = bareOrigin(item);
    if (origin === undefined) {
      ctx.addIssue({ code: 'custom', message: `must be "*" or a comma-separated list of origins (\`${item}\` is not a URL)` });
      return z.NEVER;
    }
    if (origin === null) {
      ctx.addIssue({ code: 'custom', message: `entries must be bare origins like https://example.com (\`${item}\` is not one)` });
      return z.NEVER;
    }
    origins.push(origin);
  }
  if (origins.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'must be "*" or a list of origins' });
    return z.NEVER;
  }
  return Object.freeze(origins);
});

const publicUrlSchema: z.ZodType<PublicUrl | null> = z.string().transform((raw, ctx) => {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a URL like https://builds.example.com' });
    return z.NEVER;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    ctx.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL' });
    return z.NEVER;
  }
  return Object.freeze({ href: url.href, origin: url.origin, hostname: hostnameOf(url) });
});

const allowedHostsSchema: z.ZodType<Config['allowedHosts']> = z.string().transform((raw, ctx) => {
  if (raw === '*') return '*' as const;
  const hosts = raw.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  const bad = hosts.find((host) => !/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(host) && net.isIP(host) === 0);
  if (bad !== undefined || hosts.length === 0) {
    ctx.addIssue({ code: 'custom', message: `must be "*" or comma-separated host names without port${bad ? `; "${bad}" is not one` : ''}` });
    return z.NEVER;
  }
  return Object.freeze(hosts);
});

/** The origin of a bare-origin string; undefined when it is no URL, null when it has more than an origin. */
function bareOrigin(item: string): string | null | undefined {
  let origin: string;
  try {
    origin = new URL(item).origin;
  } catch {
    return undefined;
  }
  return origin === 'null' || origin !== item.replace(/\/$/, '') ? null : origin;
}

/** A URL's host name as Host headers are compared: lower case, IPv6 without brackets. */
function hostnameOf(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}

function parseProjectsRoots(raw: string | undefined, cwd: string): string[] {
  const entries = raw === undefined ? [path.join(repoRoot, 'examples')] : raw.split(':').filter((p) => p !== '');
  if (entries.length === 0) throw new ConfigError(`PROJECTS_ROOT must name at least one folder, got "${raw}"`);
  const roots: string[] = [];
  for (const entry of entries) {
    let real: string;
    try {
      real = fs.realpathSync(path.resolve(cwd, entry));
    } catch {
      throw new ConfigError(`PROJECTS_ROOT folder does not exist: "${entry}"`);
    }
    if (!fs.statSync(real).isDirectory()) throw new ConfigError(`PROJECTS_ROOT entry is not a folder: "${entry}"`);
    if (!roots.includes(real)) roots.push(real);
  }
  return roots;
}

function parseAuthToken(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  // An empty token would be a server that looks protected and is not.
  if (raw.trim() === '') throw new ConfigError('AUTH_TOKEN is set but empty; unset it or give it a value');
  return raw;
}
