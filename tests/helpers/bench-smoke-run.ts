import { spawn } from 'node:child_process';
import path from 'node:path';

const repoDir = path.resolve(import.meta.dirname, '..', '..');
const tsxCli = path.join(repoDir, 'node_modules', 'tsx', 'dist', 'cli.mjs');
export const RUN_TIMEOUT_MS = 210000;

/** Runs `npm run bench`'s entry at a tiny scale, in its own process group; resolves with its exit code. */
export function runBench(outDir: string, only: readonly string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      // Every scenario, 5 clients or so, a few hundred lines (e–g: a 5,000-event build, a 1 MB
      // one, 20 kept builds; h–j: clusters on the machine's Redis, 127.0.0.1:6379); one server
      // of each kind for all cells of a–d; every client parses every event, so order is
      // checked on every stream.
      [tsxCli, 'bench/run.ts', '--scale', '0.001', '--runs', '1', '--reuse-servers', '--sampled', '1000', '--quiet', '--only', only.join(','), '--out', outDir],
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

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

