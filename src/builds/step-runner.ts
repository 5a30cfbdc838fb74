import type { BuildProcess } from './build-processes.js';
import type { RunningStep, StepOptions } from './run-step.js';

/**
 * The processes of one build, as BuildRun drives them: each step's command started in a
 * process group of its own, the build's live processes found, and all of them ended. The
 * real one is ProcessStepRunner (execa and /proc); a test gives a fake that plays the steps.
 */
export interface StepRunner {
  /** Starts a step; its process group is the build's current one until release(). Never throws. */
  start(options: StepOptions): RunningStep;
  /** The build's live processes: the current step's group, and those that left it but carry the build's id. */
  findProcesses(): readonly BuildProcess[];
  /** SIGTERM to every process of the build, SIGKILL after graceMs; resolves once none is left (or it gave up). */
  terminate(graceMs: number): Promise<void>;
  /** The step is over: its process group is no longer the build's current one. */
  release(): void;
}
