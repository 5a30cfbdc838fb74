import { BuildProcesses, type BuildProcess } from './build-processes.js';
import { startStep, type RunningStep, type StepOptions } from './run-step.js';
import type { StepRunner } from './step-runner.js';

/** The real StepRunner: startStep() for each step, BuildProcesses for finding and ending what the build runs. */
export class ProcessStepRunner implements StepRunner {
  private readonly processes: BuildProcesses;

  constructor(buildId: string) {
    this.processes = new BuildProcesses(buildId);
  }

  start(options: StepOptions): RunningStep {
    const running = startStep(options);
    this.processes.group = running.processGroup;
    return running;
  }

  findProcesses(): readonly BuildProcess[] {
    return this.processes.find();
  }

  terminate(graceMs: number): Promise<void> {
    return this.processes.terminate(graceMs);
  }

  release(): void {
    this.processes.group = null;
  }
}
