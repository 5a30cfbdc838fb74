import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResults } from '../../bench/report/bench-results.js';
import { isAlive, runBench, RUN_TIMEOUT_MS } from '../helpers/bench-smoke-run.js';

/** Rows a–g: one process only, so `npm test` needs nothing but Node (h–j run in the cluster suite). */
const ONE_PROCESS_ROWS = ['a', 'b', 'b1', 'b2', 'c', 'd', 'e', 'f', 'g'];

describe('npm run bench (smoke, tiny scale)', () => {
  let outDir: string;
  let results: BenchResults;

  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-bench-smoke-'));
    const { code, output } = await runBench(outDir, ONE_PROCESS_ROWS);
    if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output.slice(-3000)}`);
    results = JSON.parse(fs.readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as BenchResults;
  }, RUN_TIMEOUT_MS + 10000);

  afterAll(() => {
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('runs every one-process scenario row against LIMIT, SEED and OURS (e–g: OURS alone) without an error', () => {
    const rows = [...new Set(results.cells.map((c) => c.row))];
    const resumeRows = ['1M', '10k'].flatMap((size) => ['mid', 'made-up'].flatMap((id) => ['cold', 'warm'].map((state) => `e/${size}/${id}/${state}`)));
    expect(rows).toEqual(['a', 'b', "b'", "b''", 'c/1', 'c/100', 'd', ...resumeRows, 'f', 'g/10k', 'g/0']);
    for (const cell of results.cells) {
      expect({ row: cell.row, server: cell.server, errors: cell.errors }).toEqual({ row: cell.row, server: cell.server, errors: [] });
    }
    const serversOf = (versus: string) => new Set(results.cells.filter((c) => c.versus === versus).map((c) => c.server));
    expect(serversOf('servers')).toEqual(new Set(['LIMIT', 'SEED', 'OURS']));
    expect(serversOf('itself')).toEqual(new Set(['OURS']));
    expect(serversOf('cluster')).toEqual(new Set());
  });

  it('delivers every line to every reader, in order, on every server', () => {
    for (const cell of results.cells.filter((c) => c.row !== 'a' && c.versus === 'servers')) {
      const m = cell.median!;
      const seen = { row: cell.row, server: cell.server, delivered: m.delivered, sequenceErrors: m.sequenceErrors, isTimedOut: m.isTimedOut };
      expect(seen).toEqual({ ...seen, delivered: m.offered, sequenceErrors: 0, isTimedOut: false });
      expect(m.offered).toBeGreaterThan(0);
    }
  });

  it('measures the idle connections of scenario a on every server', () => {
    for (const cell of results.cells.filter((c) => c.row === 'a')) {
      expect(cell.median?.heapPerConnKb).toEqual(expect.any(Number));
    }
  });

  it('checks rows e–g: each resume starts where it must, every copy of the big build is exact, every kept build is listed', () => {
    for (const cell of results.cells.filter((c) => c.versus === 'itself')) {
      const m = cell.median!;
      const seen = { row: cell.row, exact: m.exactReaders, sequenceErrors: m.sequenceErrors, isTimedOut: m.isTimedOut };
      expect(seen).toEqual({ ...seen, exact: m.clients, sequenceErrors: 0, isTimedOut: false });
    }
    const figure = (row: string, key: 'firstEventMs' | 'startupMs' | 'outputBytes') => results.cells.find((c) => c.row === row)!.median![key];
    expect(figure('e/1M/made-up/cold', 'firstEventMs')).toEqual(expect.any(Number));
    expect(figure('g/10k', 'startupMs')).toEqual(expect.any(Number));
    expect(figure('f', 'outputBytes')).toBeGreaterThanOrEqual(1 << 20);
    const judged = new Set(results.targets.map((t) => t.target.row));
    for (const row of ['e/1M/mid/cold', 'f', 'g/10k']) expect(judged).toContain(row);
  });

  it('leaves no process behind', () => {
    expect(results.pids.length).toBeGreaterThanOrEqual(4);
    expect(results.pids.filter(isAlive)).toEqual([]);
  });
});
