import type { CellMetrics, RowResult } from '../scenarios/cell-metrics.js';

/** The median of each metric over the runs of one cell (each metric on its own). */
export function medianMetrics(runs: readonly RowResult[]): CellMetrics | null {
  const measured = runs.map((r) => r.metrics).filter((m): m is CellMetrics => m !== null);
  if (measured.length === 0) return null;
  const first = measured[0]!;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(first) as Array<keyof CellMetrics>) {
    const values = measured.map((m) => m[key]);
    if (typeof first[key] === 'boolean') result[key] = values.some(Boolean);
    else result[key] = median(values.filter((v): v is number => typeof v === 'number'));
  }
  return result as unknown as CellMetrics;
}

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
