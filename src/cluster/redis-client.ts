import { Redis, type RedisOptions } from 'ioredis';
import { defineClusterCommands, type ClusterCommands } from './lua-scripts.js';

export type ClusterRedis = Redis & ClusterCommands;

/** How long a process waits for Redis at start-up before it gives up (the contract's 10 s). */
export const STARTUP_WAIT_MS = 10000;

/**
 * A connection to the cluster's Redis. Commands wait through reconnects (the offline queue)
 * instead of failing after a few retries: a dropped connection must not lose a write, and
 * requests are refused up front by RedisHealth once Redis has been gone for 10 s.
 */
export function connectRedis(url: string, name: string, options: RedisOptions = {}): ClusterRedis {
  const redis = new Redis(url, {
    connectionName: name,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * attempt, 500),
    // A blocked-forever read would otherwise hang on a Redis that vanished without a FIN.
    keepAlive: 10000,
    ...options,
  });
  // Errors come back to the command that failed; the event alone would crash the process.
  redis.on('error', () => {});
  return defineClusterCommands(redis);
}

/** Resolves once Redis answers a PING; rejects after STARTUP_WAIT_MS with why it did not. */
export async function waitForRedis(redis: Redis, waitMs = STARTUP_WAIT_MS): Promise<void> {
  let lastError: unknown = null;
  const onError = (error: unknown) => {
    lastError = error;
  };
  redis.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(describe(lastError) ?? `no answer within ${waitMs / 1000} s`)), waitMs);
      redis.ping().then(
        () => {
          clearTimeout(timer);
          resolve();
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
  } finally {
    redis.off('error', onError);
  }
}

/** REDIS_URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'REDIS_URL';
  }
}

function describe(error: unknown): string | null {
  if (!error) return null;
  return error instanceof Error ? error.message || (error as NodeJS.ErrnoException).code || 'connection failed' : String(error);
}
