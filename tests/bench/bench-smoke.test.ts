import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResults } from '../../bench/report/bench-results.js';

const repoDir = path.resolve(import.meta.dirname, '..', '..');
const tsxCli = path.join(repoDir, 'node_modules', 'tsx', 'dist', 'cli.mjs');
const RUN_TIMEOUT_MS = 100000;

/** Runs `npm run bench`'s entry at a tiny scale, in its own process group; resolves with its exit code. */
function runBench(outDir: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      // Every scenario, 5 clients or so, a few hundred lines; one server of each kind for all
      // cells; every client parses every event, so order is checked on every stream.
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

  it('runs every scenario row against LIMIT, SEED and OURS without an error', () => {
    const rows = [...new Set(results.cells.map((c) => c.row))];
    expect(rows).toEqual(['a', 'b', "b'", "b''", 'c/1', 'c/100', 'd']);
    for (const cell of results.cells) {
      expect({ row: cell.row, server: cell.server, errors: cell.errors }).toEqual({ row: cell.row, server: cell.server, errors: [] });
    }
    expect(new Set(results.cells.map((c) => c.server))).toEqual(new Set(['LIMIT', 'SEED', 'OURS']));
  });

  it('delivers every line to every reader, in order, on every server', () => {
    for (const cell of results.cells.filter((c) => c.row !== 'a')) {
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

  it('leaves no process behind', () => {
    expect(results.pids.length).toBeGreaterThanOrEqual(4);
    expect(results.pids.filter(isAlive)).toEqual([]);
  });
});
