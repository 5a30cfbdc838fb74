import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from '../../../src/paths.js';
import { freePort } from '../free-port.js';
import { forgetOnExit, killOnExit } from './owned-processes.js';

export type Role = 'api' | 'worker' | 'all';

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Date.now() when the test saw it exit. */
  readonly at: number;
}

export interface ClusterProcessOptions {
  readonly role: Role;
  /** How failure messages call it; also its WORKER_NAME when it runs builds. */
  readonly name: string;
  /** Its own DATA_DIR. */
  readonly dataDir: string;
  /** The rest of its environment: REDIS_URL, REDIS_PREFIX, PROJECTS_ROOT and any setting. */
  readonly env: Readonly<Record<string, string>>;
}

/** How long a process gets from spawn to a 200 on GET /healthz (machines are slow and shared). */
const READY_TIMEOUT_MS = 45000;
/** Output kept per process for failure messages. */
const MAX_OUTPUT_CHARS = 200000;

/**
 * One `node dist/main.js` of a cluster, in a process group of its own, on a port picked for
 * it (it is started with that PORT, so its URL is known before it prints anything).
 */
export class ClusterProcess {
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | null = null;
  private stdoutText = '';
  private stderrText = '';

  private constructor(
    readonly options: ClusterProcessOptions,
    readonly port: number,
    private readonly child: ChildProcess,
  ) {
    child.stdout!.on('data', (chunk: Buffer) => (this.stdoutText = (this.stdoutText + chunk.toString()).slice(-MAX_OUTPUT_CHARS)));
    child.stderr!.on('data', (chunk: Buffer) => (this.stderrText = (this.stderrText + chunk.toString()).slice(-MAX_OUTPUT_CHARS)));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal, at: Date.now() };
        forgetOnExit(child);
        resolve(this.exit);
      });
    });
  }

  /** Spawns the process on `port` and returns at once, before it is ready (or has failed). */
  static spawn(options: ClusterProcessOptions, port: number): ClusterProcess {
    const runsBuilds = options.role !== 'api';
    const child = spawn(process.execPath, [path.join(repoRoot, 'dist', 'main.js')], {
      cwd: repoRoot,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        LANG: process.env.LANG,
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ...(runsBuilds ? { WORKER_NAME: options.name } : {}),
        ...options.env,
        ROLE: options.role,
        PORT: String(port),
        DATA_DIR: options.dataDir,
      },
    });
    killOnExit(child, { group: true });
    return new ClusterProcess(options, port, child);
  }

  /**
   * Spawns it on a free port and waits until GET /healthz answers 200. A port taken between
   * finding it and binding it is tried again on another one.
   */
  static async start(options: ClusterProcessOptions): Promise<ClusterProcess> {
    for (let attempt = 1; ; attempt += 1) {
      const started = ClusterProcess.spawn(options, await freePort());
      try {
        await started.ready();
        return started;
      } catch (error) {
        started.killGroup();
        await started.exited;
        if (attempt < 3 && /is in use \(PORT\)|EADDRINUSE/.test(started.output())) continue;
        throw error;
      }
    }
  }

  get name(): string {
    return this.options.name;
  }

  get role(): Role {
    return this.options.role;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get pid(): number {
    return this.child.pid!;
  }

  hasExited(): boolean {
    return this.exit !== null;
  }

  stdout(): string {
    return this.stdoutText;
  }

  stderr(): string {
    return this.stderrText;
  }

  /** stdout then stderr (each in order, not interleaved). */
  output(): string {
    return this.stdoutText + this.stderrText;
  }

  /** The last lines it printed, headed by its name and state, for failure messages. */
  describe(lines = 25): string {
    const state = this.exit ? `exited (code ${this.exit.code}, signal ${this.exit.signal})` : 'running';
    const tail = (text: string) => text.trimEnd().split('\n').filter(isTelling).slice(-lines).join('\n');
    return `--- ${this.name} (${this.role}, ${this.url}, pid ${this.child.pid}, ${state})\n${tail(this.stdoutText)}\n[stderr]\n${tail(this.stderrText)}`;
  }

  /** Polls GET /healthz until it answers 200; rejects when the process exits first or after timeoutMs. */
  async ready(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.exit) {
      if (Date.now() > deadline) throw new Error(`${this.name} did not answer 200 on /healthz within ${timeoutMs} ms\n${this.describe()}`);
      try {
        const response = await fetch(`${this.url}/healthz`, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`${this.name} exited before it was ready\n${this.describe()}`);
  }

  /** Sends a signal to the node process alone (not to the builds it started). */
  signal(name: NodeJS.Signals): void {
    if (this.exit) return;
    try {
      process.kill(this.child.pid!, name);
    } catch {
      // gone
    }
  }

  /** SIGKILL to the node process alone: the process dies as a crash or an OOM kill ends it. */
  kill9(): void {
    this.signal('SIGKILL');
  }

  /** SIGTERM: a graceful stop. */
  terminate(): void {
    this.signal('SIGTERM');
  }

  /** Resolves with its exit, or rejects when it has not exited within timeoutMs. */
  async waitForExit(timeoutMs: number): Promise<ProcessExit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${this.name} did not exit within ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL to its whole group if it has not exited within graceMs. */
  async stop(graceMs = 15000): Promise<ProcessExit> {
    this.terminate();
    try {
      return await this.waitForExit(graceMs);
    } catch {
      this.killGroup();
      return this.exited;
    }
  }

  /** SIGKILL to its whole process group (cleanup; never leaves it running). */
  killGroup(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  }
}

/** A line worth showing in a failure message: not the access log of a request that went well (readiness polls). */
function isTelling(line: string): boolean {
  const status = /"msg":"request"/.test(line) ? /"status":(\d+)/.exec(line)?.[1] : undefined;
  return status === undefined || Number(status) >= 400;
}
