import { readRssBytes } from './proc-stats.js';

const DEFAULT_SAMPLE_MS = 100;

/** Samples a process's RSS (or the sum over several processes') while a cell runs, to report its peak. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private readonly pids: readonly number[];
  readonly startBytes: number;
  peakBytes: number;

  constructor(pids: number | readonly number[], sampleMs: number = DEFAULT_SAMPLE_MS) {
    this.pids = typeof pids === 'number' ? [pids] : pids;
    this.startBytes = this.read() ?? 0;
    this.peakBytes = this.startBytes;
    this.timer = setInterval(() => this.sample(), sampleMs);
    // A sampler left running after an error must not keep the bench from exiting (and cleaning up).
    this.timer.unref();
  }

  /** Stops sampling; returns the peak seen. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes;
  }

  /** Reads the RSS now (it counts towards the peak); 0 once the processes are gone. */
  sample(): number {
    const rss = this.read();
    if (rss !== null && rss > this.peakBytes) this.peakBytes = rss;
    return rss ?? 0;
  }

  /** The summed RSS of the processes still there; null once none is. */
  private read(): number | null {
    let total: number | null = null;
    for (const pid of this.pids) {
      const rss = readRssBytes(pid);
      if (rss !== null) total = (total ?? 0) + rss;
    }
    return total;
  }
}
