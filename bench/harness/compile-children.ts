import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { onExit } from './exit-cleanup.js';
import { benchDir, repoDir } from './paths.js';

/** Compiled entries of the processes the bench starts besides the real server. */
export interface CompiledChildren {
  readonly limitServer: string;
  readonly seedServer: string;
  readonly loadWorker: string;
  /** The reader that checks whole streams (rows e and f). */
  readonly streamReader: string;
  /** Removes the compiled files. */
  remove(): void;
}

/**
 * Compiles the LIMIT and SEED servers, the load worker and the stream reader to plain JS (with tsc, into a folder
 * of this run under bench/.build), so that they run on bare node like the real server's
 * dist/, without a TypeScript loader in the process being measured.
 */
export async function compileChildren(): Promise<CompiledChildren> {
  const outDir = path.join(benchDir, '.build', `${process.pid}-${Date.now().toString(36)}`);
  const remove = onExit(() => fs.rmSync(outDir, { recursive: true, force: true }));
  const tsc = path.join(repoDir, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', path.join(benchDir, 'tsconfig.children.json'), '--outDir', outDir], { cwd: repoDir });
  } catch (error) {
    const { stdout } = error as { stdout?: string };
    remove();
    throw new Error(`compiling the bench's child processes failed:\n${stdout ?? String(error)}`);
  }
  return {
    limitServer: path.join(outDir, 'servers', 'limit-server.js'),
    seedServer: path.join(outDir, 'servers', 'seed-server.js'),
    loadWorker: path.join(outDir, 'load', 'load-worker.js'),
    streamReader: path.join(outDir, 'load', 'stream-reader.js'),
    remove,
  };
}
