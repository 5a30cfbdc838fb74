export const TERMINAL_STATUSES = ['succeeded', 'failed', 'cancelled', 'timed_out', 'interrupted'] as const;
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];
export type BuildStatus = 'queued' | 'running' | TerminalStatus;
export type StepStatus = 'pending' | 'running' | 'skipped' | TerminalStatus;
export type StepName = 'install' | 'build';

export interface BuildStep {
  name: StepName;
  command: string;
  status: StepStatus;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** The Build object of the contract, exactly as clients receive it. */
export interface Build {
  id: string;
  projectPath: string;
  status: BuildStatus;
  steps: BuildStep[];
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  durationMs: number | null;
  /** WORKER_NAME of the process that runs or ran the build; null while it is queued. */
  worker: string | null;
  streamUrl: string;
  logUrl: string;
}

/** A build as stored: the Build plus what only the server needs. */
export interface BuildRecord {
  build: Build;
  idempotencyKey: string | null;
  /**
   * The process group of the step running now, kept so that a server that crashed can
   * end what it left running when it starts again.
   */
  processGroup?: number | null;
  /**
   * The build's history on disk ends with its `end` event, written before this record said
   * so: a start-up need not read that history to know it is whole.
   */
  isHistorySealed?: boolean;
}

/** The steps every build runs, in order: `yarn install`, then `yarn build` if that succeeded. */
export const STEP_ARGS: Readonly<Record<StepName, readonly string[]>> = {
  install: ['install'],
  build: ['build'],
};

export function isTerminal(status: BuildStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** A new queued build of a project. */
export function newBuild(id: string, projectPath: string, createdAt: Date): Build {
  const steps = (Object.keys(STEP_ARGS) as StepName[]).map(
    (name): BuildStep => ({
      name,
      command: `yarn ${STEP_ARGS[name].join(' ')}`,
      status: 'pending',
      exitCode: null,
      startedAt: null,
      finishedAt: null,
    }),
  );
  return {
    id,
    projectPath,
    status: 'queued',
    steps,
    createdAt: createdAt.toISOString(),
    startedAt: null,
    finishedAt: null,
    exitCode: null,
    durationMs: null,
    worker: null,
    streamUrl: `/api/log/push?build=${id}`,
    logUrl: `/api/builds/${id}/log`,
  };
}

/** A copy that later changes to the record cannot reach (events and responses hold snapshots). */
export function snapshot(build: Build): Build {
  return { ...build, steps: build.steps.map((step) => ({ ...step })) };
}

const ID_RANDOM_CHARS = 6;

/** A URL-safe id that sorts by creation time: base-36 milliseconds plus a random tail. */
export function newBuildId(nowMs: number = Date.now()): string {
  let tail = '';
  for (let i = 0; i < ID_RANDOM_CHARS; i += 1) tail += Math.floor(Math.random() * 36).toString(36);
  return nowMs.toString(36).padStart(9, '0') + tail;
}

/** Whether a string could be one of our build ids (checked before it touches a path). */
export function isBuildId(value: string): boolean {
  return /^[0-9a-z]{9,20}$/.test(value);
}
