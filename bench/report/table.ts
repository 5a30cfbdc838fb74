import type { CellMetrics } from '../scenarios/cell-metrics.js';
import type { CellResult } from './bench-results.js';
import { CLUSTER_SETUPS } from '../scenarios/scenario-spec.js';
import type { TargetResult } from './targets.js';

interface Column {
  readonly title: string;
  readonly value: (cell: CellResult, m: CellMetrics) => string;
}

const fixed = (digits: number) => (v: number | null) => (v === null ? '-' : v.toFixed(digits));
const f0 = fixed(0);
const f1 = fixed(1);
const f2 = fixed(2);
const f3 = fixed(3);

/** Adaptive precision for figures that range over orders of magnitude. */
function num(v: number | null): string {
  if (v === null) return '-';
  const abs = Math.abs(v);
  if (abs >= 100) return v.toFixed(0);
  if (abs >= 10) return v.toFixed(1);
  if (abs >= 1) return v.toFixed(2);
  return v.toFixed(3);
}

function rate(v: number | null): string {
  if (v === null) return '-';
  if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
  return v.toFixed(0);
}

function delivered(m: CellMetrics): string {
  if (m.offered === 0) return '-';
  const share = `${((100 * m.delivered) / m.offered).toFixed(m.delivered === m.offered ? 0 : 2)}%`;
  return m.sequenceErrors > 0 ? `${share} (${m.sequenceErrors} out of order)` : share;
}

const COLUMNS: readonly Column[] = [
  { title: 'row', value: (c) => c.row },
  { title: 'server', value: (c) => c.server },
  { title: 'clients', value: (_, m) => f0(m.clients) },
  { title: 'lines', value: (_, m) => f0(m.lines) },
  { title: 'delivered', value: (_, m) => delivered(m) },
  { title: 'events/s', value: (_, m) => rate(m.eventsPerSec) },
  { title: 'B/ev', value: (_, m) => f0(m.bytesPerEvent) },
  { title: 'cpu s', value: (_, m) => (m.cpuMs === null ? '-' : f2(m.cpuMs / 1000)) },
  { title: 'cpu us/ev', value: (_, m) => num(m.cpuUsPerEvent) },
  { title: 'p50 ms', value: (_, m) => num(m.p50Ms) },
  { title: 'p99 ms', value: (_, m) => num(m.p99Ms) },
  { title: 'p99.9 ms', value: (_, m) => num(m.p999Ms) },
  { title: 'rss MB', value: (_, m) => f1(m.rssPeakMb) },
  { title: 'rss +MB', value: (_, m) => f1(m.rssGrowthMb) },
  { title: 'heap/conn KB', value: (_, m) => f2(m.heapPerConnKb) },
  { title: 'rss/conn KB', value: (_, m) => f2(m.rssPerConnKb) },
  { title: 'wall s', value: (_, m) => (m.wallMs === null ? '-' : f2(m.wallMs / 1000)) },
  { title: 'gen lag ms', value: (_, m) => num(m.genMaxLagMs) },
  { title: 'load cpu', value: (_, m) => (m.loadCpuShare === null ? '-' : `${(100 * m.loadCpuShare).toFixed(0)}%`) },
];

const MB = 1024 * 1024;

/** What a row of e–g measured: the size of its build or DATA_DIR. */
function size(m: CellMetrics): string {
  if (m.keptBuilds !== null) return `${m.keptBuilds} builds`;
  if (m.outputBytes !== null) return `${(m.outputBytes / MB).toFixed(1)} MB`;
  return `${m.lines} events`;
}

/** Rows e–g: OURS against itself at two sizes. */
const SELF_COLUMNS: readonly Column[] = [
  { title: 'row', value: (c) => c.row },
  { title: 'size', value: (_, m) => size(m) },
  { title: 'readers', value: (_, m) => (m.keptBuilds !== null ? '-' : f0(m.clients)) },
  { title: 'first event ms', value: (_, m) => num(m.firstEventMs) },
  { title: 'start-up ms', value: (_, m) => num(m.startupMs) },
  { title: 'exact', value: (_, m) => (m.exactReaders === null ? '-' : `${f0(m.exactReaders)}/${f0(m.clients)}`) },
  { title: 'rss MB at start', value: (_, m) => f1(m.rssStartMb) },
  { title: 'rss peak MB', value: (_, m) => f1(m.rssPeakMb) },
  { title: 'rss +MB', value: (_, m) => f1(m.rssGrowthMb) },
  { title: 'cpu s', value: (_, m) => (m.cpuMs === null ? '-' : f2(m.cpuMs / 1000)) },
  { title: 'wall s', value: (_, m) => (m.wallMs === null ? '-' : f2(m.wallMs / 1000)) },
];

/** Rows h–j: OURS as a cluster on Redis and as one process, side by side. */
const CLUSTER_COLUMNS: readonly Column[] = [
  { title: 'row', value: (c) => c.row },
  { title: 'processes', value: (c) => CLUSTER_SETUPS[c.row] ?? '-' },
  { title: 'clients', value: (_, m) => f0(m.clients) },
  { title: 'lines', value: (_, m) => (m.lines === 0 ? '-' : f0(m.lines)) },
  { title: 'delivered', value: (_, m) => delivered(m) },
  { title: 'cpu s', value: (_, m) => (m.cpuMs === null ? '-' : f2(m.cpuMs / 1000)) },
  { title: 'cpu us/ev', value: (_, m) => num(m.cpuUsPerEvent) },
  { title: 'p50 ms', value: (_, m) => num(m.p50Ms) },
  { title: 'p99 ms', value: (_, m) => num(m.p99Ms) },
  { title: 'redis cpu s', value: (_, m) => (m.redisCpuMs === null ? '-' : f2(m.redisCpuMs / 1000)) },
  { title: 'redis us/ev', value: (_, m) => num(m.redisCpuUsPerEvent) },
  { title: 'worker cpu s', value: (_, m) => (m.workerCpuMs === null ? '-' : f2(m.workerCpuMs / 1000)) },
  { title: 'interrupted after ms', value: (_, m) => num(m.interruptedMs) },
  { title: 'exact', value: (_, m) => (m.exactReaders === null ? '-' : `${f0(m.exactReaders)}/${f0(m.clients)}`) },
  { title: 'rss MB', value: (_, m) => (m.rssPeakMb === 0 ? '-' : f1(m.rssPeakMb)) },
  { title: 'wall s', value: (_, m) => (m.wallMs === null ? '-' : f2(m.wallMs / 1000)) },
  { title: 'gen lag ms', value: (_, m) => num(m.genMaxLagMs) },
];

const isSelf = (cell: CellResult) => cell.versus === 'itself';

/** A table of medians; a cell with none shows its row, `label` (the server, or h–j's processes) and its first error. */
function formatCells(cells: readonly CellResult[], columns: readonly Column[], label: (cell: CellResult) => string = (cell) => cell.server): string {
  const rows = cells.map((cell) => (cell.median ? columns.map((c) => c.value(cell, cell.median!)) : [cell.row, label(cell), `error: ${cell.errors[0] ?? 'no result'}`]));
  return formatTable(columns.map((c) => c.title), rows);
}

/** The medians of the rows that compare the servers, one line per row and server. */
export function formatResultsTable(cells: readonly CellResult[]): string {
  return formatCells(cells.filter((cell) => cell.versus === 'servers'), COLUMNS);
}

/**
 * The medians of rows e–g (OURS only), or '' when none ran. "rss MB at start": e, before the
 * connect; f, before the first byte of output; g, at the `listening` line.
 */
export function formatSelfTable(cells: readonly CellResult[]): string {
  const self = cells.filter(isSelf);
  return self.length === 0 ? '' : formatCells(self, SELF_COLUMNS);
}

/**
 * The medians of rows h–j (OURS as a cluster, and as one process), or '' when none ran. cpu:
 * the API processes' (h/cluster: both, summed; j/cluster: the fresh one; i: the API process
 * between the kill and the answer); rss MB: theirs, summed, at its peak.
 */
export function formatClusterTable(cells: readonly CellResult[]): string {
  const cluster = cells.filter((cell) => cell.versus === 'cluster');
  return cluster.length === 0 ? '' : formatCells(cluster, CLUSTER_COLUMNS, (cell) => CLUSTER_SETUPS[cell.row] ?? cell.server);
}

/** The targets for OURS, each with both figures, the ratio and pass/FAIL. */
export function formatTargetsTable(results: readonly TargetResult[]): string {
  const rows = results.map((r) => [
    r.target.row,
    r.label,
    num(r.ours),
    num(r.other),
    r.value === null ? '-' : r.target.against === 'none' || r.target.compare === 'difference' ? num(r.value) : `${f3(r.value)}x`,
    r.verdict,
    r.note,
  ]);
  return formatTable(['row', 'target for OURS', 'OURS', 'other', 'ratio', 'result', 'note'], rows);
}

/** A markdown table, columns padded so it also reads in a terminal. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${widths.map((w, i) => (cells[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(header), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}
