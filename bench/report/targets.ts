import type { ServerKind } from '../harness/server-kinds.js';
import type { CellMetrics } from '../scenarios/cell-metrics.js';
import { LOST_WORKER_MS, RESUME_IDS, RESUME_STATES, resumeRow } from '../scenarios/scenario-spec.js';

type Metric = 'deliveredRatio' | 'exactRatio' | 'cpuUsPerEvent' | 'p99Ms' | 'eventsPerSec' | 'heapPerConnKb' | 'rssGrowthMb' | 'rssPeakMb' | 'firstEventMs' | 'startupMs' | 'redisCpuUsPerEvent' | 'interruptedMs';

/**
 * One target of the task for OURS: a ratio against LIMIT or SEED in the same row (or against
 * OURS's own row b), or a bound on OURS's own figure. `bound: null` is reported, not judged.
 */
export interface Target {
  readonly row: string;
  readonly metric: Metric;
  readonly against: 'LIMIT' | 'SEED' | { readonly ownRow: string } | 'none';
  readonly op: '<=' | '>=';
  readonly bound: number | null;
  /** OURS / other (the default), or OURS - other. */
  readonly compare: 'ratio' | 'difference';
  /** A ratio target with an allowance: OURS op bound × other + offset (h's p99: ≤ 2× + 5 ms). */
  readonly offset?: number;
}

const t = (row: string, metric: Metric, against: Target['against'], op: Target['op'], bound: number | null, compare: Target['compare'] = 'ratio', offset?: number): Target => ({
  row,
  metric,
  against,
  op,
  bound,
  compare,
  ...(offset !== undefined ? { offset } : {}),
});

const ONE_PROCESS_H = { ownRow: 'h/one' } as const;

export const TARGETS: readonly Target[] = [
  t('a', 'heapPerConnKb', 'LIMIT', '<=', 1.5),
  t('a', 'heapPerConnKb', 'SEED', '<=', 0.7),
  t('b', 'deliveredRatio', 'none', '>=', 1),
  t('b', 'cpuUsPerEvent', 'LIMIT', '<=', 1.15),
  t('b', 'p99Ms', 'LIMIT', '<=', 1.25),
  t('b', 'eventsPerSec', 'SEED', '>=', 15),
  // OURS's events/s is pinned to the offered 5M/s; its capacity shows in CPU per event.
  t('b', 'cpuUsPerEvent', 'SEED', '<=', null),
  t("b'", 'cpuUsPerEvent', 'LIMIT', '<=', 1.15),
  t("b'", 'p99Ms', 'LIMIT', '<=', 1.2),
  t("b'", 'cpuUsPerEvent', 'SEED', '<=', 0.75),
  t("b''", 'deliveredRatio', 'none', '>=', 1),
  t("b''", 'p99Ms', 'LIMIT', '<=', 1.3),
  t("b''", 'eventsPerSec', 'SEED', '>=', null),
  t("b''", 'cpuUsPerEvent', 'SEED', '<=', null),
  t('c/1', 'cpuUsPerEvent', 'LIMIT', '<=', 2),
  t('c/1', 'cpuUsPerEvent', 'SEED', '<=', 1 / 20),
  t('c/100', 'cpuUsPerEvent', 'LIMIT', '<=', 2),
  t('c/100', 'cpuUsPerEvent', 'SEED', '<=', 1 / 20),
  // What the stalled reader itself costs: d's growth minus b's. b grows too, under load alone
  // and with the history it keeps anyway (the contract bounds a stalled reader's cost beyond it).
  t('d', 'rssGrowthMb', { ownRow: 'b' }, '<=', 16, 'difference'),
  t('d', 'rssGrowthMb', 'none', '<=', null),
  t('d', 'p99Ms', { ownRow: 'b' }, '<=', 1.1),
  t('d', 'rssGrowthMb', 'SEED', '<=', null),
  t('d', 'p99Ms', 'SEED', '<=', null),
  // e: the same resume of a 1,000,000-event build and of a 10,000-event one, in the same run.
  ...RESUME_IDS.flatMap((id) =>
    RESUME_STATES.flatMap((state) => [
      t(resumeRow('1M', id, state), 'firstEventMs', { ownRow: resumeRow('10k', id, state) }, '<=', 1.5),
      t(resumeRow('1M', id, state), 'rssGrowthMb', 'none', '<=', 16),
    ]),
  ),
  t('f', 'exactRatio', 'none', '>=', 1),
  t('f', 'rssGrowthMb', 'none', '<=', 128),
  t('g/10k', 'startupMs', { ownRow: 'g/0' }, '<=', 2),
  t('g/10k', 'rssPeakMb', { ownRow: 'g/0' }, '<=', 32, 'difference'),
  // h–j: OURS as a cluster on Redis against OURS as one process, same load, same run.
  t('h/cluster', 'deliveredRatio', 'none', '>=', 1),
  t('h/cluster', 'cpuUsPerEvent', ONE_PROCESS_H, '<=', 1.3),
  t('h/cluster', 'p99Ms', ONE_PROCESS_H, '<=', 2, 'ratio', 5),
  t('h/cluster', 'redisCpuUsPerEvent', 'none', '<=', null),
  // What h/cluster is judged against must have been the full load itself.
  t('h/one', 'deliveredRatio', 'none', '>=', null),
  t('i', 'interruptedMs', 'none', '<=', LOST_WORKER_MS + 5000),
  t('i', 'exactRatio', 'none', '>=', 1),
  t('j/cluster', 'cpuUsPerEvent', { ownRow: 'j/one' }, '<=', 2),
  t('j/cluster', 'deliveredRatio', 'none', '>=', 1),
  t('j/cluster', 'redisCpuUsPerEvent', 'none', '<=', null),
];

/** `capped`: OURS delivered all it was offered, and the offered load caps the ratio below the bound. */
export type Verdict = 'pass' | 'FAIL' | 'info' | 'n/a' | 'capped';

/** A run whose build printed a burst this late was starved of CPU: the machine was busy. */
const NOISY_LAG_MS = 10;

export interface TargetResult {
  readonly target: Target;
  readonly label: string;
  /** Why the figures may be noise (the fixture build ran late: the machine was busy). */
  readonly note: string;
  readonly ours: number | null;
  readonly other: number | null;
  /** OURS / other (or OURS - other), or OURS's own figure when there is no other. */
  readonly value: number | null;
  readonly verdict: Verdict;
}

export type MedianLookup = (row: string, server: ServerKind) => CellMetrics | null;

function noiseNote(cells: ReadonlyArray<readonly [string, CellMetrics | null]>): string {
  const late = cells.filter(([, m]) => (m?.genMaxLagMs ?? 0) > NOISY_LAG_MS).map(([name, m]) => `${name} ${m!.genMaxLagMs!.toFixed(0)} ms`);
  return late.length > 0 ? `busy machine? build ran late: ${late.join(', ')}` : '';
}

/** Rows e–g check what they measured (where a resume started, a copy's hash, a listing): say when it was wrong. */
function inexactNote(cells: ReadonlyArray<readonly [string, CellMetrics | null]>): string {
  const wrong = cells.filter(([, m]) => m?.exactReaders != null && m.exactReaders < m.clients).map(([name, m]) => `${name} ${m!.exactReaders}/${m!.clients} exact`);
  return wrong.length > 0 ? `wrong result: ${wrong.join(', ')}` : '';
}

export function metricValue(metrics: CellMetrics | null, metric: Metric): number | null {
  if (!metrics) return null;
  if (metric === 'deliveredRatio') return metrics.offered > 0 ? metrics.delivered / metrics.offered : null;
  if (metric === 'exactRatio') return metrics.exactReaders !== null && metrics.clients > 0 ? metrics.exactReaders / metrics.clients : null;
  return metrics[metric];
}

/** Why a row has no median (its first error), or null. */
export type ErrorLookup = (row: string, server: ServerKind) => string | null;

/** Longest error quoted in a target's note (the row's table shows it whole). */
const NOTE_ERROR_CHARS = 120;

/** Judges every target whose row was run; one whose row failed is `n/a`, its note saying why. */
export function judgeTargets(rows: ReadonlySet<string>, lookup: MedianLookup, errorOf: ErrorLookup = () => null): TargetResult[] {
  return TARGETS.filter((target) => rows.has(target.row)).map((target) => {
    const result = judge(target, lookup);
    const error = result.verdict === 'n/a' ? errorOf(target.row, 'OURS') : null;
    return error === null ? result : { ...result, note: `not measured: ${error.length > NOTE_ERROR_CHARS ? `${error.slice(0, NOTE_ERROR_CHARS)}...` : error}` };
  });
}

function judge(target: Target, lookup: MedianLookup): TargetResult {
  const oursCell = lookup(target.row, 'OURS');
  const ours = metricValue(oursCell, target.metric);
  const against = target.against;
  const otherName = against === 'none' ? null : typeof against === 'string' ? against : `OURS ${against.ownRow}`;
  const otherCell = against === 'none' ? null : typeof against === 'string' ? lookup(target.row, against) : lookup(against.ownRow, 'OURS');
  const other = metricValue(otherCell, target.metric);
  const note = target.metric === 'p99Ms' ? noiseNote([['OURS', oursCell], [otherName ?? '', otherCell]]) : inexactNote([['OURS', oursCell], [otherName ?? '', otherCell]]);
  const againstLabel = against === 'none' ? '' : typeof against === 'string' ? ` vs ${against}` : ` vs OURS ${against.ownRow}`;
  const boundLabel = target.bound === null ? ' (report)' : ` ${target.op} ${formatBound(target)}`;
  const label = target.compare === 'difference' ? `${target.metric}: ${target.row} minus${againstLabel.replace(' vs', '')}${boundLabel}` : `${target.metric}${againstLabel}${boundLabel}`;
  let value: number | null = null;
  if (against === 'none') value = ours;
  else if (ours !== null && other !== null) value = target.compare === 'difference' ? ours - other : other !== 0 ? ours / other : null;
  let verdict: Verdict;
  if (value === null) verdict = 'n/a';
  else if (target.bound === null) verdict = 'info';
  else if (target.offset !== undefined) {
    // Judged on the figures themselves: with an allowance, the ratio alone says nothing.
    const limit = target.bound * other! + target.offset;
    verdict = (target.op === '<=' ? ours! <= limit : ours! >= limit) ? 'pass' : 'FAIL';
    return { target, label, note: [`limit ${num(target.bound)} x ${num(other)} + ${target.offset} = ${num(limit)}`, note].filter(Boolean).join('; '), ours, other, value, verdict };
  } else verdict = (target.op === '<=' ? value <= target.bound : value >= target.bound) ? 'pass' : 'FAIL';
  if (verdict === 'FAIL' && isCappedByOfferedLoad(target, oursCell, otherCell)) {
    const capacity = oursCell!.cpuUsPerEvent && otherCell!.cpuUsPerEvent ? otherCell!.cpuUsPerEvent / oursCell!.cpuUsPerEvent : null;
    const capacityNote = capacity === null ? '' : `; per CPU second OURS serves ${capacity.toFixed(0)}x as many events`;
    return { target, label, note: `OURS delivered all it was offered, so ${value!.toFixed(1)}x is the most this load can show${capacityNote}`, ours, other, value, verdict: 'capped' };
  }
  return { target, label, note, ours, other, value, verdict };
}

/** A throughput ratio that OURS cannot raise: it already delivered every event offered. */
function isCappedByOfferedLoad(target: Target, ours: CellMetrics | null, other: CellMetrics | null): boolean {
  return target.metric === 'eventsPerSec' && target.op === '>=' && ours !== null && other !== null && ours.offered > 0 && ours.delivered >= ours.offered && other.delivered < other.offered;
}

function formatBound(target: Target): string {
  if (target.bound === null) return '';
  if (target.compare === 'difference') return `${target.bound} MB`;
  if (target.metric === 'interruptedMs') return `${target.bound} ms (WORKER_LOST_MS ${LOST_WORKER_MS} + 5 s)`;
  if (target.against === 'none') return target.metric === 'deliveredRatio' || target.metric === 'exactRatio' ? '100%' : `${target.bound}`;
  if (target.offset !== undefined) return `${target.bound}x + ${target.offset} ms`;
  return target.bound < 0.1 ? `1/${Math.round(1 / target.bound)}x` : `${target.bound}x`;
}

/** A figure in a note, with the precision of the tables. */
function num(v: number | null): string {
  if (v === null) return '-';
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}
