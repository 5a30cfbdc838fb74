import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResults } from '../../bench/report/bench-results.js';
import { isAlive, runBench, RUN_TIMEOUT_MS } from '../helpers/bench-smoke-run.js';

/** Rows h–j of `npm run bench` at a tiny scale: clusters on the machine's Redis (127.0.0.1:6379). */
describe('npm run bench, rows h–j (smoke, tiny scale)', () => {
  let outDir: string;
  let results: BenchResults;

  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-bench-smoke-hij-'));
    const { code, output } = await runBench(outDir, ['h', 'i', 'j']);
    if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output.slice(-3000)}`);
    results = JSON.parse(fs.readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as BenchResults;
  }, RUN_TIMEOUT_MS + 10000);

  afterAll(() => {
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('checks rows h–j: the cluster and the one process deliver every line in order, the lost worker\'s build ends interrupted', () => {
    for (const row of ['h/cluster', 'h/one', 'j/cluster', 'j/one']) {
      const m = results.cells.find((c) => c.row === row)!.median!;
      const seen = { row, delivered: m.delivered, sequenceErrors: m.sequenceErrors, isTimedOut: m.isTimedOut };
      expect(seen).toEqual({ ...seen, delivered: m.offered, sequenceErrors: 0, isTimedOut: false });
      expect(m.offered).toBeGreaterThan(0);
    }
    const figure = (row: string) => results.cells.find((c) => c.row === row)!.median!;
    expect(figure('h/cluster').redisCpuMs).toEqual(expect.any(Number));
    expect(figure('j/cluster').redisCpuUsPerEvent).toEqual(expect.any(Number));
    expect(figure('h/one').redisCpuMs).toBeNull();
    expect({ exact: figure('i').exactReaders, interruptedMs: figure('i').interruptedMs }).toEqual({ exact: 1, interruptedMs: expect.any(Number) });
    const judged = new Set(results.targets.map((t) => t.target.row));
    for (const row of ['h/cluster', 'i', 'j/cluster']) expect(judged).toContain(row);
  });

  it('runs only rows h–j, OURS against itself as a cluster, without an error', () => {
    expect([...new Set(results.cells.map((cell) => cell.row))]).toEqual(['h/cluster', 'h/one', 'i', 'j/cluster', 'j/one']);
    for (const cell of results.cells) expect({ row: cell.row, server: cell.server, errors: cell.errors }).toEqual({ row: cell.row, server: 'OURS', errors: [] });
  });

  it('leaves no process behind', () => {
    expect(results.pids.filter(isAlive)).toEqual([]);
  });
});
