import type { CompiledChildren } from './compile-children.js';
import { ServerProcess, type ServerStartOptions } from './server-process.js';
import type { ServerKind } from './server-kinds.js';

export interface ServerPoolOptions {
  /** Keep one server of each kind for every cell (fast; for development and the smoke test). */
  readonly reuse: boolean;
  readonly maxClients: number;
  readonly cpuProfileDir: string | null;
  /** The kinds run with --cpu-prof (into cpuProfileDir). */
  readonly profiled: readonly ServerKind[];
}

/**
 * Hands out the server a cell runs against: a fresh process for every cell (the default, so
 * that no cell inherits another's heap), or one kept per kind with `reuse`. A server that
 * failed a cell is never reused.
 */
export class ServerPool {
  private readonly kept = new Map<ServerKind, ServerProcess>();
  readonly pids: number[] = [];

  constructor(
    private readonly children: CompiledChildren,
    private readonly options: ServerPoolOptions,
  ) {}

  async acquire(kind: ServerKind): Promise<ServerProcess> {
    const kept = this.kept.get(kind);
    if (kept?.isRunning) return kept;
    const server = await ServerProcess.start(kind, this.children, { maxClients: this.options.maxClients, cpuProfileDir: this.options.profiled.includes(kind) ? this.options.cpuProfileDir : null });
    this.pids.push(server.pid);
    if (this.options.reuse) this.kept.set(kind, server);
    return server;
  }

  /**
   * A fresh server that is never kept, started as a scenario needs it (on its own DATA_DIR,
   * with its own variables); the scenario stops it.
   */
  async launch(kind: ServerKind, options: Omit<ServerStartOptions, 'maxClients' | 'cpuProfileDir'> = {}): Promise<ServerProcess> {
    const server = await ServerProcess.start(kind, this.children, {
      ...options,
      maxClients: this.options.maxClients,
      cpuProfileDir: this.options.profiled.includes(kind) ? this.options.cpuProfileDir : null,
    });
    this.pids.push(server.pid);
    return server;
  }

  /** Done with a cell: the server stops unless it is kept (and healthy). */
  async release(server: ServerProcess, hasFailed: boolean): Promise<void> {
    if (this.options.reuse && !hasFailed && server.isRunning) return;
    this.kept.delete(server.kind);
    await server.stop();
  }

  async stopAll(): Promise<void> {
    const servers = [...this.kept.values()];
    this.kept.clear();
    await Promise.all(servers.map((server) => server.stop()));
  }
}
