import fs from 'node:fs';
import path from 'node:path';
import type { BenchResults } from './bench-results.js';

/** Writes latest.json and a timestamped copy into `dir`; returns the paths. */
export function writeResults(dir: string, results: BenchResults): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const json = JSON.stringify(results, null, 2) + '\n';
  const stamp = results.meta.startedAt.replace(/[:.]/g, '-');
  const files = [path.join(dir, 'latest.json'), path.join(dir, `bench-${stamp}.json`)];
  for (const file of files) fs.writeFileSync(file, json);
  return files;
}
