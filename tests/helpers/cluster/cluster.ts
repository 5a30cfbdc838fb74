import fs from 'node:fs';
import path from 'node:path';
import { request } from '../http.js';
import { waitFor } from '../wait.js';
import { ClusterProcess, type ProcessExit, type Role } from './cluster-process.js';

export interface ClusterOptions {
  readonly redisUrl: string;
  /** REDIS_PREFIX shared by every process of this cluster (unique per test). */
  readonly prefix: string;
  readonly projectsRoot: string;
  /** Where each process gets a DATA_DIR of its own. */
  readonly tempDir: string;
  /** Settings every process gets (WORKER_LOST_MS, MAX_QUEUED_BUILDS, ...). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface StartOptions {
  /** Its label, and WORKER_NAME for a worker; a default such as `api-2` otherwise. */
  readonly name?: string;
  /** Settings of this process only, over the cluster's. */
  readonly env?: Readonly<Record<string, string>>;
}

/** A worker as GET /api/workers lists it. */
export interface ListedWorker {
  readonly name: string;
  readonly status: 'idle' | 'busy' | 'stopping' | 'lost';
  readonly builds: string[];
  readonly maxConcurrentBuilds: number;
  readonly startedAt: string;
  readonly lastSeenAt: string;
}

/**
 * The processes of one cluster: api and worker processes sharing one Redis and one prefix,
 * each with its own port and DATA_DIR. Keeps every process it started, for cleanup and for
 * failure messages.
 */
export class Cluster {
  readonly processes: ClusterProcess[] = [];
  private readonly counts = new Map<Role, number>();

  constructor(readonly options: ClusterOptions) {}

  get prefix(): string {
    return this.options.prefix;
  }

  /** Starts an api process (serves HTTP, runs no build) and waits until it is ready. */
  startApi(options: StartOptions = {}): Promise<ClusterProcess> {
    return this.start('api', options);
  }

  /** Starts a worker (runs builds, serves /healthz and /metrics) and waits until it is ready. */
  startWorker(options: StartOptions = {}): Promise<ClusterProcess> {
    return this.start('worker', options);
  }

  /** Starts `apis` api processes and `workers` workers (named worker-1, worker-2, ...), all in parallel. */
  async startMany({ apis, workers, env }: { apis: number; workers: number; env?: Readonly<Record<string, string>> }): Promise<{ apis: ClusterProcess[]; workers: ClusterProcess[] }> {
    const started = await Promise.all([
      Promise.all(Array.from({ length: apis }, () => this.startApi(env ? { env } : {}))),
      Promise.all(Array.from({ length: workers }, () => this.startWorker(env ? { env } : {}))),
    ]);
    return { apis: started[0], workers: started[1] };
  }

  /** Starts a process of any role and waits until GET /healthz answers 200. */
  async start(role: Role, options: StartOptions = {}): Promise<ClusterProcess> {
    const member = await ClusterProcess.start(this.processOptions(role, options));
    this.processes.push(member);
    return member;
  }

  /** Spawns a process on `port` without waiting for it (to watch it fail at start-up). */
  spawn(role: Role, port: number, options: StartOptions = {}): ClusterProcess {
    const member = ClusterProcess.spawn(this.processOptions(role, options), port);
    this.processes.push(member);
    return member;
  }

  /** The running api processes (and `all` ones), in start order. */
  apis(): ClusterProcess[] {
    return this.processes.filter((p) => p.role !== 'worker' && !p.hasExited());
  }

  /** GET /api/workers on `via`. */
  async workers(via: ClusterProcess): Promise<ListedWorker[]> {
    const response = await request(`${via.url}/api/workers`);
    if (response.status !== 200) throw new Error(`GET /api/workers on ${via.name}: ${response.status} ${response.text.slice(0, 300)}`);
    return response.json.workers as ListedWorker[];
  }

  /** Waits until GET /api/workers on `via` lists each of these workers, none of them lost. */
  async waitForWorkers(via: ClusterProcess, names: readonly string[], timeoutMs = 30000): Promise<ListedWorker[]> {
    let last: ListedWorker[] = [];
    try {
      return await waitFor(
        async () => {
          last = await this.workers(via).catch(() => []);
          const ready = names.every((name) => last.some((w) => w.name === name && w.status !== 'lost'));
          return ready ? last : null;
        },
        `workers ${names.join(', ')} on ${via.name}`,
        timeoutMs,
        200,
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; last listed: ${JSON.stringify(last)}`);
    }
  }

  /** SIGTERM to every running process at once; each that has not exited within graceMs gets SIGKILL. */
  async stopAll(graceMs = 15000): Promise<ProcessExit[]> {
    return Promise.all(this.processes.filter((p) => !p.hasExited()).map((p) => p.stop(graceMs)));
  }

  /** SIGKILL to every process group it started (cleanup). */
  killAll(): void {
    for (const member of this.processes) member.killGroup();
  }

  /** Resolves once every process it started has exited. */
  async allExited(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.exited));
  }

  /** Every process's last lines, for a failure message. */
  describe(): string {
    return this.processes.map((p) => p.describe()).join('\n');
  }

  private processOptions(role: Role, { name, env }: StartOptions) {
    const count = (this.counts.get(role) ?? 0) + 1;
    this.counts.set(role, count);
    const label = name ?? `${role}-${count}`;
    const dataDir = fs.mkdtempSync(path.join(this.options.tempDir, `${label}-`));
    return {
      role,
      name: label,
      dataDir,
      env: {
        PROJECTS_ROOT: this.options.projectsRoot,
        REDIS_URL: this.options.redisUrl,
        REDIS_PREFIX: this.options.prefix,
        ...this.options.env,
        ...env,
      },
    };
  }
}
