import { Redis } from 'ioredis';

/** The default Redis of rows h–j: the one the machine runs for the cluster tests. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** A Redis that has not answered by then is taken as not there. */
const CONNECT_TIMEOUT_MS = 3000;
const SCAN_COUNT = 1000;

/** Redis did not answer the bench; its message is the one line the bench prints. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

/**
 * The bench's own connection to the Redis its clusters run on (never one of theirs): it reads
 * Redis's CPU time and deletes a cluster's keys once its row is done. No reconnects and no
 * offline queue: a Redis that is not there is an error at once, not a wait.
 */
export class BenchRedis {
  private constructor(
    private readonly redis: Redis,
    readonly url: string,
  ) {}

  /** Connects and PINGs; throws RedisUnavailableError when Redis does not answer. */
  static async connect(url: string): Promise<BenchRedis> {
    const redis = new Redis(url, { lazyConnect: true, connectTimeout: CONNECT_TIMEOUT_MS, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false, connectionName: 'buildlog-bench' });
    // The connection's own error says why (ECONNREFUSED...); the command's is only "Connection is closed".
    let connectionError: unknown = null;
    redis.on('error', (error) => (connectionError ??= error));
    try {
      await redis.connect();
      await redis.ping();
    } catch (error) {
      redis.disconnect();
      const cause = connectionError ?? error;
      throw new RedisUnavailableError(`Redis at ${url} does not answer (${cause instanceof Error ? cause.message : String(cause)})`);
    }
    return new BenchRedis(redis, url);
  }

  /** Redis's CPU time so far (INFO cpu: used_cpu_sys + used_cpu_user, every thread of the server), ms. */
  async cpuMs(): Promise<number> {
    const info = await this.redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
    const seconds = field('used_cpu_sys') + field('used_cpu_user');
    if (!Number.isFinite(seconds)) throw new Error(`INFO cpu has no used_cpu_sys and used_cpu_user: ${info.slice(0, 200)}`);
    return seconds * 1000;
  }

  /** Deletes every key under `prefix` (SCAN, then UNLINK in batches); returns how many. */
  async deleteKeys(prefix: string): Promise<number> {
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      cursor = next;
      if (keys.length > 0) deleted += await this.redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  }

  async quit(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
