import { fork, type ChildProcess } from 'node:child_process';
import type { DrainReport, OpenReport, WorkerCommand, WorkerReport } from '../load/protocol.js';
import { registerChild, stopChild } from './child-registry.js';
import { readCpuMs } from './proc-stats.js';

/** The runner's handle on the load worker: one command at a time, each answered by one report. */
export class LoadGenerator {
  private waiter: { resolve: (report: WorkerReport) => void; reject: (error: Error) => void } | null = null;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (report: WorkerReport) => {
      const waiter = this.waiter;
      this.waiter = null;
      if (!waiter) return;
      if (report.type === 'error') waiter.reject(new Error(`load worker: ${report.message}`));
      else waiter.resolve(report);
    });
    // A send on a channel that just closed is reported here; the exit handler below fails the request.
    child.on('error', () => {});
    child.once('exit', (code, signal) => {
      this.waiter?.reject(new Error(`the load worker exited (${signal ?? code})`));
      this.waiter = null;
    });
  }

  /** Starts the worker; with a profile folder, under --cpu-prof (its profile is named LOAD-*). */
  static start(workerEntry: string, cpuProfileDir: string | null = null): LoadGenerator {
    // Plain node: the runner's TypeScript loader must not come along (execArgv is not inherited).
    const profile = cpuProfileDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfileDir, '--cpu-prof-name', `LOAD-${Date.now()}.cpuprofile`] : [];
    const child = fork(workerEntry, [], { execArgv: profile, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    registerChild(child, false);
    return new LoadGenerator(child);
  }

  get isAlive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null && this.child.connected;
  }

  get pid(): number {
    return this.child.pid!;
  }

  /** The worker's own CPU time, ms: a worker near one full core means the figures are the generator's limit. */
  cpuMs(): number {
    return readCpuMs(this.pid);
  }

  /** Connects the clients, in batches, each batch waiting for its answers; bounded by timeoutMs. */
  open(command: Omit<Extract<WorkerCommand, { cmd: 'open' }>, 'cmd'>): Promise<OpenReport> {
    return this.request({ cmd: 'open', ...command }) as Promise<OpenReport>;
  }

  /** Waits until every reading client's stream was closed by the server (or timeoutMs passed). */
  drain(expectedPerClient: number, timeoutMs: number): Promise<DrainReport> {
    return this.request({ cmd: 'drain', expectedPerClient, timeoutMs }) as Promise<DrainReport>;
  }

  /** Destroys every client socket. */
  async close(): Promise<void> {
    await this.request({ cmd: 'close' });
  }

  /** Ends the worker (by closing its channel, so that a profiled worker writes its profile). */
  async stop(): Promise<void> {
    await stopChild(this.child);
  }

  private request(command: WorkerCommand): Promise<WorkerReport> {
    if (this.waiter) return Promise.reject(new Error('the load worker is busy'));
    if (!this.isAlive) return Promise.reject(new Error('the load worker is gone'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.child.send(command);
    });
  }
}
