import fs from 'node:fs';
import os from 'node:os';
import { execa } from 'execa';
import { findDescriptorShortage } from './descriptor-headroom.js';
import { hasExited } from './process-table.js';

export type OutputStream = 'stdout' | 'stderr';

/**
 * The contract: output that processes a step left behind still write through its pipes is
 * read for at most 2 s after the step's own process exited.
 */
export const OUTPUT_DRAIN_MS = 2000;

export interface StepOptions {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly onOutput: (stream: OutputStream, chunk: Buffer) => void;
  /** Told as soon as the step's own process has exited, before its output is all read. */
  readonly onExit?: (exitCode: number | null) => void;
  readonly drainMs?: number;
}

/** How a step's process ended. */
export interface StepResult {
  /** The exit code, or 128 + the signal number when a signal ended it (as a shell reports it). */
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** Why the process could not be started at all (yarn missing, folder gone, no descriptor left...). */
  readonly startError: string | null;
}

export interface RunningStep {
  /** The pid of the step's own process, which leads its process group; null when it did not start. */
  readonly processGroup: number | null;
  /**
   * Resolves once the own process has exited and its output is read: its pipes closed, or
   * drainMs went by since the exit, or abandon() was called. It never kills anything.
   */
  readonly done: Promise<StepResult>;
  /** Whether the own process has exited (also when Node has not reaped it yet). */
  hasExited(): boolean;
  /** Stops reading the output now (a stop's deadline): done resolves, exited or not. */
  abandon(): void;
}

/**
 * Runs one command without a shell, in its own process group (`detached`), so that every
 * process it starts can be signalled at once. stdin is closed; output is streamed as raw
 * bytes, never buffered. Never throws and never lets a spawn failure escape as an `error`
 * event: a step that cannot start resolves with its startError.
 */
export function startStep(options: StepOptions): RunningStep {
  const shortage = findDescriptorShortage();
  if (shortage) return notStarted(describeStartError(options, shortage));
  let subprocess: ReturnType<typeof spawnStep>;
  try {
    subprocess = spawnStep(options);
  } catch (error) {
    return notStarted(describeStartError(options, (error as NodeJS.ErrnoException).code ?? (error as Error).message));
  }
  const { pid } = subprocess;
  if (pid === undefined) {
    const done = subprocess.then(
      (result) => ({ exitCode: null, signal: null, startError: describeStartError(options, result.code ?? 'unknown error') }),
      (error: unknown) => ({ exitCode: null, signal: null, startError: describeStartError(options, (error as Error).message) }),
    );
    return { processGroup: null, done, hasExited: () => true, abandon: () => {} };
  }
  subprocess.catch(() => {}); // the result comes from the events below; reject:false makes this moot anyway

  const pipes = [subprocess.stdout, subprocess.stderr].filter((pipe) => pipe !== null);
  subprocess.stdout?.on('data', (chunk: Buffer) => options.onOutput('stdout', chunk));
  subprocess.stderr?.on('data', (chunk: Buffer) => options.onOutput('stderr', chunk));

  let exit: { exitCode: number | null; signal: string | null } | null = null;
  let openPipes = pipes.length;
  let drainTimer: NodeJS.Timeout | null = null;
  let resolveDone!: (result: StepResult) => void;
  const done = new Promise<StepResult>((resolve) => {
    resolveDone = resolve;
  });
  let isDone = false;
  const finish = () => {
    if (isDone) return;
    isDone = true;
    if (drainTimer) clearTimeout(drainTimer);
    // Leftovers may hold the pipes open forever: stop reading them.
    for (const pipe of pipes) pipe.destroy();
    resolveDone({ exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, startError: null });
  };
  for (const pipe of pipes) {
    pipe.once('close', () => {
      openPipes -= 1;
      if (openPipes === 0 && exit) finish();
    });
  }
  subprocess.once('exit', (code, signal) => {
    const exitCode = code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : null);
    exit = { exitCode, signal };
    options.onExit?.(exitCode);
    if (openPipes === 0) finish();
    else drainTimer = setTimeout(finish, options.drainMs ?? OUTPUT_DRAIN_MS);
  });
  return { processGroup: pid, done, hasExited: () => exit !== null || hasExited(pid), abandon: finish };
}

function spawnStep(options: StepOptions) {
  return execa(options.file, [...options.args], {
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
}

function notStarted(startError: string): RunningStep {
  return { processGroup: null, done: Promise.resolve({ exitCode: null, signal: null, startError }), hasExited: () => true, abandon: () => {} };
}

function describeStartError(options: StepOptions, code: string): string {
  if (!fs.existsSync(options.cwd)) return `the project folder ${options.cwd} no longer exists`;
  if (code === 'ENOENT') return `${options.file} does not exist (set YARN_BIN to a yarn executable)`;
  if (code === 'EACCES') return `${options.file} is not executable (EACCES)`;
  if (code === 'EMFILE') return 'the server has no file descriptor left to start it with (EMFILE); builds can start again once some are free';
  if (code === 'ENFILE') return 'the system has no file descriptor left to start it with (ENFILE)';
  if (code === 'EAGAIN') return 'the system refused to start another process (EAGAIN: out of processes)';
  return `cannot start ${options.file} in ${options.cwd} (${code})`;
}
