import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from '../free-port.js';
import { forgetOnExit, killOnExit } from './owned-processes.js';

/** How long a fresh redis-server gets to answer PING (it usually takes a few ms). */
const START_TIMEOUT_MS = 10000;

/**
 * A redis-server of the test's own, without persistence, on a free port of 127.0.0.1: a fault
 * can be done to it (pause, kill, restart empty, drop every connection) without touching
 * anyone else's Redis.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private log = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  /** Starts one on a free port; tries another port when the one found was taken meanwhile. */
  static async start(): Promise<PrivateRedis> {
    for (let attempt = 1; ; attempt += 1) {
      const redis = new PrivateRedis(await freePort(), fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-redis-')));
      try {
        await redis.launch();
        return redis;
      } catch (error) {
        await redis.stop();
        if (attempt >= 3) throw error;
      }
    }
  }

  /** `redis://127.0.0.1:<port>`, what REDIS_URL names. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whatever redis-server printed, for failure messages. */
  output(): string {
    return this.log;
  }

  /** SIGSTOP: connections stay open and accepted, nothing answers (a stalled Redis). */
  pause(): void {
    this.signal('SIGSTOP');
  }

  /** SIGCONT after pause(). */
  resume(): void {
    this.signal('SIGCONT');
  }

  /** SIGKILL; resolves once it is gone. */
  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** Kills it and starts a new one on the same port: a Redis that comes back empty. */
  async restart(): Promise<void> {
    await this.kill();
    // SO_REUSEADDR lets it bind again at once; a short retry covers a slow release of the port.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.launch();
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** Drops every client connection (normal and pub/sub), as a network blip does; returns how many. */
  async clientKillAll(): Promise<number> {
    return this.withClient(async (client) => {
      // The caller's own connection is skipped (SKIPME yes is the default of the filter form).
      const normal = Number(await client.call('CLIENT', 'KILL', 'TYPE', 'normal'));
      const pubsub = Number(await client.call('CLIENT', 'KILL', 'TYPE', 'pubsub'));
      return normal + pubsub;
    });
  }

  /** PING on a connection of its own; rejects when nothing answers within timeoutMs. */
  ping(timeoutMs = 2000): Promise<string> {
    return this.withClient((client) => client.ping(), timeoutMs);
  }

  /** Runs fn with a client that never retries, never queues, and gives up after timeoutMs. */
  async withClient<T>(fn: (client: Redis) => Promise<T>, timeoutMs = 2000): Promise<T> {
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      // A paused Redis accepts the TCP connection and answers nothing: the ready check would hang.
      enableReadyCheck: false,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      connectTimeout: timeoutMs,
      commandTimeout: timeoutMs,
    });
    client.on('error', () => {}); // a refused connection is what the caller's promise reports
    let timer: NodeJS.Timeout | undefined;
    // ioredis's own timeouts do not all bound a connection that is accepted and never answered.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Redis on port ${this.port} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    const work = client.connect().then(() => fn(client));
    work.catch(() => {}); // once the timeout won, its late failure is nobody's
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
      client.disconnect();
    }
  }

  /** Kills it (also when paused) and removes its folder. Idempotent. */
  async stop(): Promise<void> {
    await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  private signal(name: NodeJS.Signals): void {
    const child = this.child;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, name);
    } catch {
      // gone already
    }
  }

  private async launch(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    killOnExit(child);
    const onData = (chunk: Buffer) => (this.log = (this.log + chunk.toString()).slice(-20000));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    let hasExited = false;
    this.exited = new Promise<void>((resolve) => {
      const settle = () => {
        hasExited = true;
        forgetOnExit(child);
        resolve();
      };
      child.once('exit', settle);
      // Not on PATH (ENOENT): 'exit' may never come; reported below as "did not start".
      child.once('error', settle);
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!hasExited && Date.now() < deadline) {
      try {
        if ((await this.ping(500)) === 'PONG') return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.signal('SIGKILL');
    await this.exited;
    throw new Error(`redis-server did not start on port ${this.port}: ${this.log.slice(-500)}`);
  }
}
