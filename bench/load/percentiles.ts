/** Latency percentiles in ms (null when there was nothing to measure). */
export interface LatencySummary {
  readonly samples: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
}

/** Nearest-rank percentiles of sorted samples. */
export function summarizeLatency(sorted: Float64Array): LatencySummary {
  const n = sorted.length;
  const at = (q: number) => (n === 0 ? null : sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))]!);
  return { samples: n, p50Ms: at(0.5), p99Ms: at(0.99), p999Ms: at(0.999), maxMs: n === 0 ? null : sorted[n - 1]! };
}
