import fs from 'node:fs';
import path from 'node:path';
import type { MeasuredWindow } from '../scenarios/cell-metrics.js';
import { formatTable } from './table.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/**
 * Self time of a V8 CPU profile (node --cpu-prof), by function and by file, largest first;
 * only the samples inside `window` when one is given (V8 stamps samples with CLOCK_MONOTONIC
 * in µs, the clock of the bench's windows).
 */
export function summarizeProfile(file: string, window: MeasuredWindow | null = null, top = 25): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const hitsByNode = new Map<number, number>();
  let at = profile.startTime;
  let first = Infinity;
  let last = -Infinity;
  for (let i = 0; i < profile.samples.length; i += 1) {
    at += profile.timeDeltas[i] ?? 0;
    if (window && (at < window.fromUs || at > window.toUs)) continue;
    first = Math.min(first, at);
    last = Math.max(last, at);
    hitsByNode.set(profile.samples[i]!, (hitsByNode.get(profile.samples[i]!) ?? 0) + 1);
  }
  const totalHits = [...hitsByNode.values()].reduce((sum, n) => sum + n, 0);
  const spanMs = totalHits > 0 ? (last - first) / 1000 : 0;
  const msPerHit = totalHits > 0 ? spanMs / totalHits : 0;
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, hits] of hitsByNode) {
    const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
    const where = shortUrl(url);
    const fn = `${functionName || '(anonymous)'} ${where ? `${where}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + hits);
    byFile.set(where || functionName, (byFile.get(where || functionName) ?? 0) + hits);
  }
  // (idle) is not the server's work: the shares are of the busy samples of the main thread.
  const busy = totalHits - (byFunction.get('(idle)') ?? 0);
  const rows = (map: Map<string, number>) =>
    [...map.entries()]
      .filter(([name]) => name !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, hits]) => [name, (hits * msPerHit).toFixed(0), `${((100 * hits) / Math.max(1, busy)).toFixed(1)}%`]);
  return [
    `${path.basename(file)}${window ? ' (measured window)' : ''}: main thread busy ${((busy * msPerHit) / 1000).toFixed(2)} s of ${(spanMs / 1000).toFixed(1)} s`,
    formatTable(['function (self time)', 'ms', 'share of busy'], rows(byFunction)),
    '',
    formatTable(['file (self time)', 'ms', 'share of busy'], rows(byFile)),
  ].join('\n');
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('/node_modules/');
  if (modules !== -1) return clean.slice(modules + '/node_modules/'.length);
  const dist = clean.lastIndexOf('/dist/');
  if (dist !== -1) return clean.slice(dist + 1);
  return clean;
}
