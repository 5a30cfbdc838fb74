/**
 * Runs an async task now and then again `intervalMs` after each run settles, until stopped.
 * The wait starts when a run is over, so a slow server never has two of our requests at
 * once; a run still in flight when the poller stops is left to finish, and schedules nothing.
 * Timers come in as a parameter so that the tests drive the clock.
 */
export class Poller {
  constructor({ task, intervalMs, timers = globalThis }) {
    this.task = task;
    this.intervalMs = intervalMs;
    this.timers = timers;
    this.timer = null;
    /** Bumped by every start and stop, so that a run of an earlier start schedules nothing. */
    this.generation = 0;
    this.isRunning = false;
  }

  /** Runs the task at once, then every interval; does nothing while already running. */
  start() {
    if (this.isRunning) return;
    this.isRunning = true;
    this.generation += 1;
    void this.run(this.generation);
  }

  stop() {
    if (!this.isRunning) return;
    this.isRunning = false;
    this.generation += 1;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  async run(generation) {
    this.timer = null;
    try {
      await this.task();
    } catch {
      // The task reports its own failures; polling goes on, the next run may succeed.
    }
    if (generation !== this.generation) return;
    this.timer = this.timers.setTimeout(() => void this.run(generation), this.intervalMs);
  }
}
