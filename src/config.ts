import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
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
  readonly logLevel: LogLevel;
  /** What builds inherit of the server's environment: PATH, HOME, LANG. */
  readonly inheritedEnv: InheritedEnv;
  /** Where each build's own TMPDIR is made (the server's TMPDIR). */
  readonly tmpRoot: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A bad setting; its message is the one line printed before the server refuses to start. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads the contract's variables (plus LOG_LEVEL) from env. Relative paths are taken from
 * cwd. Throws ConfigError naming the first bad variable.
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const read = (name: string): string | undefined => {
    const value = env[name];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  };
  const int = (name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number =>
    parseIntegerSetting(name, read(name), fallback, min, max);

  return Object.freeze({
    port: int('PORT', 3000, 0, 65535),
    host: read('HOST') ?? '127.0.0.1',
    projectsRoots: Object.freeze(parseProjectsRoots(read('PROJECTS_ROOT'), cwd)),
    dataDir: path.resolve(cwd, read('DATA_DIR') ?? './data'),
    maxClients: int('MAX_CLIENTS', 100, 1),
    heartbeatMs: int('HEARTBEAT_MS', 15000, 10, 2 ** 31 - 1),
    retryMs: int('RETRY_MS', 3000, 0, 2 ** 31 - 1),
    maxConcurrentBuilds: int('MAX_CONCURRENT_BUILDS', 2, 1),
    maxQueuedBuilds: int('MAX_QUEUED_BUILDS', 20, 0),
    buildTimeoutMs: int('BUILD_TIMEOUT_MS', 1800000, 1, 2 ** 31 - 1),
    authToken: parseAuthToken(env.AUTH_TOKEN),
    corsOrigins: parseCorsOrigins(read('CORS_ORIGINS')),
    yarnBin: read('YARN_BIN') ? path.resolve(cwd, read('YARN_BIN')!) : defaultYarnBin(),
    logLevel: parseLogLevel(read('LOG_LEVEL')),
    inheritedEnv: Object.freeze({
      path: read('PATH') ?? '/usr/local/bin:/usr/bin:/bin',
      home: read('HOME') ?? os.homedir(),
      lang: read('LANG') ?? 'C.UTF-8',
    }),
    tmpRoot: read('TMPDIR') ?? os.tmpdir(),
  });
}

/** The yarn that this project installs as its own dependency (yarn@1.22.22). */
export function defaultYarnBin(): string {
  return path.join(repoRoot, 'node_modules', 'yarn', 'bin', 'yarn.js');
}

function parseIntegerSetting(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const kind = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer of at least ${min}`;
  if (!/^\d+$/.test(raw)) throw new ConfigError(`${name} must be ${kind}, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be ${kind} no larger than ${max}, got "${raw}"`);
  return value;
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

function parseCorsOrigins(raw: string | undefined): Config['corsOrigins'] {
  if (raw === undefined) return null;
  if (raw === '*') return '*';
  const origins: string[] = [];
  for (const item of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    let origin: string;
    try {
      origin = new URL(item).origin;
    } catch {
      throw new ConfigError(`CORS_ORIGINS must be "*" or a comma-separated list of origins, got "${item}"`);
    }
    if (origin === 'null' || origin !== item.replace(/\/$/, '')) {
      throw new ConfigError(`CORS_ORIGINS entries must be bare origins like https://example.com, got "${item}"`);
    }
    origins.push(origin);
  }
  if (origins.length === 0) throw new ConfigError(`CORS_ORIGINS must be "*" or a list of origins, got "${raw}"`);
  return Object.freeze(origins);
}

function parseLogLevel(raw: string | undefined): LogLevel {
  if (raw === undefined) return 'info';
  const level = raw.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${raw}"`);
  }
  return level as LogLevel;
}
