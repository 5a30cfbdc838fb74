import fs from 'node:fs';
import os from 'node:os';
import { execa } from 'execa';
import { KILL_GRACE_MS, terminateGroup } from './process-group.js';

export type OutputStream = 'stdout' | 'stderr';

export interface StepOptions {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly onOutput: (stream: OutputStream, chunk: Buffer) => void;
  readonly killGraceMs?: number;
}

/** How a step's process ended. */
export interface StepResult {
  /** The exit code, or 128 + the signal number when a signal ended it (as a shell reports it). */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why the process could not be started at all (yarn missing, folder gone...). */
  readonly startError: string | null;
}

export interface RunningStep {
  /** The process group of the step (its leader's pid), or null when it did not start. */
  readonly processGroup: number | null;
  /** Resolves when the process has exited, its output is all read and its whole group is gone. */
  readonly done: Promise<StepResult>;
  /** Ends the whole process tree: SIGTERM to its group, SIGKILL after the grace period. */
  stop(): void;
}

/**
 * Runs one command without a shell, in its own process group (`detached`), so that every
 * process it starts, however deep, can be signalled at once. stdin is closed; output is
 * streamed as raw bytes, never buffered. Whatever is left of the group when the command
 * exits is ended too, since leftovers would hold the output pipes open.
 */
export function startStep(options: StepOptions): RunningStep {
  const graceMs = options.killGraceMs ?? KILL_GRACE_MS;
  const subprocess = execa(options.file, [...options.args], {
    cwd: options.cwd,
    env: options.env,
    extendEnv: false,
    stdin: 'ignore',
    buffer: false,
    encoding: 'buffer',
    detached: true,
    cleanup: false,
    reject: false,
  });
  subprocess.stdout?.on('data', (chunk: Buffer) => options.onOutput('stdout', chunk));
  subprocess.stderr?.on('data', (chunk: Buffer) => options.onOutput('stderr', chunk));

  let termination: Promise<void> | null = null;
  const stop = () => {
    if (termination || subprocess.pid === undefined) return;
    termination = terminateGroup(subprocess.pid, graceMs);
  };
  subprocess.on('exit', stop);

  const done = subprocess.then(async (result) => {
    await termination;
    if (subprocess.pid === undefined) {
      const reason = result.code ? `${result.code}` : 'unknown error';
      return { exitCode: null, signal: null, startError: describeStartError(options, reason) };
    }
    const signal = result.signal ?? null;
    const exitCode = result.exitCode ?? (signal ? 128 + (os.constants.signals[signal as NodeJS.Signals] ?? 0) : null);
    return { exitCode, signal, startError: null };
  });
  return { processGroup: subprocess.pid ?? null, done, stop };
}

function describeStartError(options: StepOptions, code: string): string {
  if (!fs.existsSync(options.cwd)) return `the project folder ${options.cwd} no longer exists`;
  if (code === 'ENOENT') return `${options.file} does not exist (set YARN_BIN to a yarn executable)`;
  if (code === 'EACCES') return `${options.file} is not executable (EACCES)`;
  return `cannot start ${options.file} in ${options.cwd} (${code})`;
}
