import { readCpuMs } from './proc-stats.js';

/**
 * Processes measured as one (the API processes of a cluster, or a lone server): their CPU
 * time summed, read from /proc as for one server.
 */
export class ProcessSet {
  readonly pids: readonly number[];

  constructor(processes: ReadonlyArray<{ readonly pid: number }>) {
    this.pids = processes.map((p) => p.pid);
  }

  /** CPU time of all of them, all threads, user and system, ms. */
  cpuMs(): number {
    return this.pids.reduce((sum, pid) => sum + readCpuMs(pid), 0);
  }
}
