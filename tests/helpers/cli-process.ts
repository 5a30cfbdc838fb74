import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled CLI, as `npm run buildlog` and the `buildlog` bin run it. */
export const CLI_PATH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'cli', 'main.js');

export interface CliResult {
  /** The exit code; null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdoutBytes: Buffer;
  readonly stdout: string;
  readonly stderr: string;
}

/** A running `node dist/cli/main.js ...`, its output collected as it comes. */
export interface CliProcess {
  readonly child: ChildProcess;
  readonly done: Promise<CliResult>;
  stdout(): string;
  stderr(): string;
  /** Resolves once the output so far satisfies predicate; rejects if the CLI exits first or after timeoutMs. */
  waitForOutput(predicate: (stdout: string, stderr: string) => boolean, what: string, timeoutMs?: number): Promise<void>;
}

/**
 * Starts the CLI with an environment of our own: the parent's, minus anything BUILDLOG_* and
 * jest's NODE_OPTIONS, plus `env`.
 */
export function startCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const base = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BUILDLOG_') && name !== 'NODE_OPTIONS'));
  const child = spawn(process.execPath, [CLI_PATH, ...args], { env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const watcher of [...watchers]) watcher();
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    out.push(chunk);
    notify();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    err.push(chunk);
    notify();
  });
  let hasExited = false;
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      hasExited = true;
      notify();
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, signal, stdoutBytes, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
  const stdout = () => Buffer.concat(out).toString('utf8');
  const stderr = () => Buffer.concat(err).toString('utf8');
  return {
    child,
    done,
    stdout,
    stderr,
    waitForOutput: (predicate, what, timeoutMs = 20000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what}; stderr: ${stderr().slice(-500)}`)), timeoutMs);
        const finish = (error: Error | null) => {
          clearTimeout(timer);
          watchers.delete(check);
          if (error) reject(error);
          else resolve();
        };
        const check = () => {
          if (predicate(stdout(), stderr())) finish(null);
          else if (hasExited) finish(new Error(`the CLI exited before ${what}; stderr: ${stderr().slice(-500)}`));
        };
        watchers.add(check);
        check();
      }),
  };
}

/** Runs the CLI to its end. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** The build id that `buildlog build` announces on stderr. */
export function announcedBuildId(stderr: string): string | null {
  return /buildlog: build ([0-9a-z]+) /.exec(stderr)?.[1] ?? null;
}

/** The numbers of the `line NNNNNN` lines of the `lines` fixture in some output, in order. */
export function lineNumbers(output: string): number[] {
  return [...output.matchAll(/^line (\d{6}) /gm)].map((match) => Number(match[1]));
}

export const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);
