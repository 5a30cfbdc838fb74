import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResults } from '../../bench/report/bench-results.js';

const repoDir = path.resolve(import.meta.dirname, '..', '..');
const tsxCli = path.join(repoDir, 'node_modules', 'tsx', 'dist', 'cli.mjs');
// Rows h–j add about 30 s (i waits out WORKER_LOST_MS, 3 s, on a cluster of its own).
const RUN_TIMEOUT_MS = 210000;

/** Runs `npm run bench`'s entry at a tiny scale, in its own process group; resolves with its exit code. */
function runBench(outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      // Every scenario, 5 clients or so, a few hundred lines (e–g: a 5,000-event build, a 1 MB
      // one, 20 kept builds; h–j: clusters on the machine's Redis, 127.0.0.1:6379); one server
      // of each kind for all cells of a–d; every client parses every event, so order is
      // checked on every stream.
      [tsxCli, 'bench/run.ts', '--scale', '0.001', '--runs', '1', '--reuse-servers', '--sampled', '1000', '--quiet', '--out', outDir],
      { cwd: repoDir, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), RUN_TIMEOUT_MS);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm run bench (smoke, tiny scale)', () => {
  let outDir: string;
  let results: BenchResults;

  beforeAll(async () => {
    outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-bench-smoke-'));
    const { code, output } = await runBench(outDir);
    if (code !== 0) throw new Error(`the bench exited with ${code}:\n${output.slice(-3000)}`);
    results = JSON.parse(fs.readFileSync(path.join(outDir, 'latest.json'), 'utf8')) as BenchResults;
  }, RUN_TIMEOUT_MS + 10000);

  afterAll(() => {
    if (outDir) fs.rmSync(outDir, { recursive: true, force: true });
  });

  it('runs every scenario row against LIMIT, SEED and OURS (e–j: OURS alone) without an error', () => {
    const rows = [...new Set(results.cells.map((c) => c.row))];
    const resumeRows = ['1M', '10k'].flatMap((size) => ['mid', 'made-up'].flatMap((id) => ['cold', 'warm'].map((state) => `e/${size}/${id}/${state}`)));
    expect(rows).toEqual(['a', 'b', "b'", "b''", 'c/1', 'c/100', 'd', ...resumeRows, 'f', 'g/10k', 'g/0', 'h/cluster', 'h/one', 'i', 'j/cluster', 'j/one']);
    for (const cell of results.cells) {
      expect({ row: cell.row, server: cell.server, errors: cell.errors }).toEqual({ row: cell.row, server: cell.server, errors: [] });
    }
    const serversOf = (versus: string) => new Set(results.cells.filter((c) => c.versus === versus).map((c) => c.server));
    expect(serversOf('servers')).toEqual(new Set(['LIMIT', 'SEED', 'OURS']));
    expect(serversOf('itself')).toEqual(new Set(['OURS']));
    expect(serversOf('cluster')).toEqual(new Set(['OURS']));
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

  it('leaves no process behind', () => {
    expect(results.pids.length).toBeGreaterThanOrEqual(4);
    expect(results.pids.filter(isAlive)).toEqual([]);
  });
});
