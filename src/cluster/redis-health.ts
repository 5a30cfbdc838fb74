import type { Redis } from 'ioredis';
import { StorageUnavailableError } from '../builds/build-errors.js';

/** The contract: a process that has had no answer from Redis for 10 s says so. */
export const UNAVAILABLE_AFTER_MS = 10000;
const PING_EVERY_MS = 1000;

/**
 * Whether this process reaches Redis, judged by a PING every second on a connection of its
 * own: unavailable once no answer came for UNAVAILABLE_AFTER_MS. Requests that need Redis ask
 * first and are refused at once (503 storage_unavailable) instead of waiting on a Redis that
 * may not come back; a refused request has had no effect. Lost-worker judging reads the same
 * clock: time without answers does not count against anyone's heartbeat.
 */
export class RedisHealth {
  private lastAnswerAt: number;
  private isPinging = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly now: () => number = Date.now,
  ) {
    this.lastAnswerAt = now();
  }

  start(): void {
    this.timer = setInterval(() => this.ping(), PING_EVERY_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get isAvailable(): boolean {
    return this.now() - this.lastAnswerAt < UNAVAILABLE_AFTER_MS;
  }

  /** When Redis last answered (ms). */
  get lastAnswer(): number {
    return this.lastAnswerAt;
  }

  /** Throws StorageUnavailableError when Redis has not answered for 10 s. */
  assertAvailable(): void {
    if (!this.isAvailable) throw new StorageUnavailableError(`no answer for ${Math.round((this.now() - this.lastAnswerAt) / 1000)} s`);
  }

  /** Any answer from Redis counts, not only the PING's. */
  noteAnswer(): void {
    this.lastAnswerAt = this.now();
  }

  private ping(): void {
    if (this.isPinging) return;
    this.isPinging = true;
    this.redis
      .ping()
      .then(() => this.noteAnswer())
      .catch(() => {})
      .finally(() => {
        this.isPinging = false;
      });
  }
}
