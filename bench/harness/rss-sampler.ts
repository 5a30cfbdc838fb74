import { readRssBytes } from './proc-stats.js';

const SAMPLE_MS = 100;

/** Samples a process's RSS while a cell runs, to report its peak. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  readonly startBytes: number;
  peakBytes: number;

  constructor(private readonly pid: number) {
    this.startBytes = readRssBytes(pid) ?? 0;
    this.peakBytes = this.startBytes;
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
  }

  /** Stops sampling; returns the peak seen. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes;
  }

  private sample(): void {
    const rss = readRssBytes(this.pid);
    if (rss !== null && rss > this.peakBytes) this.peakBytes = rss;
  }
}
