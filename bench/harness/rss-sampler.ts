import { readRssBytes } from './proc-stats.js';

const DEFAULT_SAMPLE_MS = 100;

/** Samples a process's RSS while a cell runs, to report its peak. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  readonly startBytes: number;
  peakBytes: number;

  constructor(
    private readonly pid: number,
    sampleMs: number = DEFAULT_SAMPLE_MS,
  ) {
    this.startBytes = readRssBytes(pid) ?? 0;
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

  /** Reads the RSS now (it counts towards the peak); 0 once the process is gone. */
  sample(): number {
    const rss = readRssBytes(this.pid);
    if (rss !== null && rss > this.peakBytes) this.peakBytes = rss;
    return rss ?? 0;
  }
}
