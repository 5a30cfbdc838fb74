import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BenchFixture } from './bench-fixture.js';
import { registerChild } from './child-registry.js';
import type { CompiledChildren } from './compile-children.js';
import { freePort } from './free-port.js';
import { benchDir } from './paths.js';
import { readCpuMs, readRssBytes } from './proc-stats.js';
import { serverLaunch, type ServerKind } from './server-kinds.js';

/** process.memoryUsage() of a server right after a full GC, as the preload reports it. */
export interface MemorySnapshot {
  readonly heapUsed: number;
  readonly rss: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface ServerStartOptions {
  readonly maxClients: number;
  /** A folder for a V8 CPU profile of this server (node --cpu-prof), or null. */
  readonly cpuProfileDir: string | null;
  /** An existing DATA_DIR to start on (a restart, or one the bench generated) instead of an empty one. */
  readonly dataDir?: string;
  /**
   * Fixture folders shared with other processes (a cluster's, whose processes must see the same
   * PROJECTS_ROOT); their owner removes them. Unset: the server gets folders of its own.
   */
  readonly fixture?: BenchFixture;
  /** Variables on top of the kind's own (OURS: LOG_LEVEL=info makes it log its `listening` line). */
  readonly env?: Readonly<Record<string, string>>;
  /** Called with the ms from spawn to the server's `listening on` log line (OURS at LOG_LEVEL info or lower). */
  readonly onListening?: (msSinceSpawn: number) => void;
  /** Called right after the spawn, with the new pid (to sample the process from its start). */
  readonly onSpawn?: (pid: number) => void;
  /** How long it may take to answer /healthz (START_TIMEOUT_MS unless told: a big DATA_DIR takes longer). */
  readonly startTimeoutMs?: number;
}

const PRELOAD = pathToFileURL(path.join(benchDir, 'preload', 'gc-on-signal.mjs')).href;
const MEMORY_MARK = '@@bench-mem ';
/** The message of OURS's log record once it listens (src/main.ts). */
const LISTENING_MESSAGE = /"msg":"listening on /;
const START_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 12000;
const STDERR_TAIL_CHARS = 4000;

/**
 * One server under test, in a child process (and process group) of its own, with its own
 * fixture folders (or a cluster's shared ones). Its CPU time and RSS are read from /proc; its heap after GC through the
 * bench preload (SIGUSR2).
 */
export class ServerProcess {
  private stderrTail = '';
  private memoryWaiters: Array<(snapshot: MemorySnapshot) => void> = [];
  private readonly exited: Promise<void>;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly kind: ServerKind,
    private readonly child: ChildProcess,
    readonly port: number,
    readonly fixture: BenchFixture,
    private readonly registration: { forget(): void },
    /** Whether the fixture is this server's own, removed when it stops. */
    private readonly ownsFixture: boolean,
    /** Where its V8 CPU profile is written when it exits (with --profile). */
    readonly profileFile: string | null,
    /** The DATA_DIR it runs on (the fixture's, unless one was given). */
    readonly dataDir: string,
  ) {
    child.stderr!.setEncoding('utf8');
    let partial = '';
    child.stderr!.on('data', (text: string) => {
      partial += text;
      const lines = partial.split('\n');
      partial = lines.pop()!;
      for (const line of lines) this.onStderrLine(line);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(kind: ServerKind, children: CompiledChildren, options: ServerStartOptions): Promise<ServerProcess> {
    const fixture = options.fixture ?? new BenchFixture();
    const port = await freePort();
    const dataDir = options.dataDir ?? fixture.dataDir;
    const launch = serverLaunch(kind, children, { port, projectsRoot: fixture.projectsRoot, dataDir, maxClients: options.maxClients });
    const profileFile = options.cpuProfileDir ? path.join(options.cpuProfileDir, `${kind}-${Date.now()}-${Math.floor(Math.random() * 1e6)}.cpuprofile`) : null;
    const profile = profileFile ? ['--cpu-prof', '--cpu-prof-dir', path.dirname(profileFile), '--cpu-prof-name', path.basename(profileFile)] : [];
    // A clean environment: nothing of the bench's own (NODE_OPTIONS, AUTH_TOKEN...) leaks in.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', LANG: process.env.LANG ?? 'C.UTF-8', TMPDIR: process.env.TMPDIR ?? '/tmp', ...launch.env, ...options.env };
    const { onListening } = options;
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, ['--expose-gc', '--import', PRELOAD, ...profile, launch.entry], {
      env,
      cwd: fixture.base,
      detached: true,
      stdio: ['ignore', onListening ? 'pipe' : 'ignore', 'pipe'],
    });
    const registration = registerChild(child, true);
    if (child.pid !== undefined) options.onSpawn?.(child.pid);
    if (onListening) watchListening(child, () => onListening(performance.now() - spawnedAt));
    const server = new ServerProcess(kind, child, port, fixture, registration, options.fixture === undefined, profileFile, dataDir);
    try {
      await server.waitHealthy(options.startTimeoutMs ?? START_TIMEOUT_MS);
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  cpuMs(): number {
    return readCpuMs(this.pid);
  }

  rssBytes(): number {
    return readRssBytes(this.pid) ?? 0;
  }

  /** Heap and RSS right after a full GC in the server. */
  memory(timeoutMs = 20000): Promise<MemorySnapshot> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} did not report its memory in ${timeoutMs} ms`)), timeoutMs);
      this.memoryWaiters.push((snapshot) => {
        clearTimeout(timer);
        resolve(snapshot);
      });
      process.kill(this.pid, 'SIGUSR2');
    });
  }

  /** SIGTERM (a graceful stop), then SIGKILL to the whole group if it takes too long. Once only: later calls wait for the same stop. */
  stop(): Promise<void> {
    // A second SIGKILL to the group could hit a reused pid: the group is signalled once.
    this.stopping ??= this.stopOnce();
    return this.stopping;
  }

  private async stopOnce(): Promise<void> {
    if (this.isRunning) {
      process.kill(this.pid, 'SIGTERM');
      const timer = setTimeout(() => this.killGroup(), STOP_TIMEOUT_MS);
      await this.exited;
      clearTimeout(timer);
    }
    this.killGroup(); // whatever it left in its group
    this.registration.forget();
    if (this.ownsFixture) this.fixture.remove();
  }

  /** SIGKILL to the server alone (a crash: no shutdown, and what it started is left as it is); resolves once it is gone. */
  async kill(): Promise<void> {
    if (!this.isRunning) return;
    process.kill(this.pid, 'SIGKILL');
    await this.exited;
  }

  /** The last lines the server wrote to stderr, for error messages. */
  get stderr(): string {
    return this.stderrTail;
  }

  private killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL');
    } catch {
      // The group is gone.
    }
  }

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.isRunning) throw new Error(`${this.kind} exited at start-up: ${this.stderrTail}`);
      try {
        const response = await fetch(`${this.url}/healthz`);
        await response.text();
        if (response.status === 200) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) throw new Error(`${this.kind} did not answer /healthz within ${timeoutMs} ms: ${this.stderrTail}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  private onStderrLine(line: string): void {
    if (line.startsWith(MEMORY_MARK)) {
      const snapshot = JSON.parse(line.slice(MEMORY_MARK.length)) as MemorySnapshot;
      const waiters = this.memoryWaiters;
      this.memoryWaiters = [];
      for (const waiter of waiters) waiter(snapshot);
      return;
    }
    if (line.trim() === '') return;
    this.stderrTail = (this.stderrTail + line + '\n').slice(-STDERR_TAIL_CHARS);
  }
}

/** Reads the server's log lines (and drops them) until the `listening on` one. */
function watchListening(child: ChildProcess, onListening: () => void): void {
  let partial = '';
  let hasListened = false;
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (text: string) => {
    if (hasListened) return;
    const lines = (partial + text).split('\n');
    partial = lines.pop()!;
    if (!lines.some((line) => LISTENING_MESSAGE.test(line))) return;
    hasListened = true;
    onListening();
  });
}
