import { loadPageModule, type PollerModule, type PollerTimers } from '../../helpers/page-modules.js';

const { Poller } = await loadPageModule<PollerModule>('poller');

/** Timers that fire only when the test says so. */
class ManualTimers implements PollerTimers {
  private readonly pending = new Map<number, { callback: () => void; ms: number }>();
  private nextHandle = 1;

  setTimeout(callback: () => void, ms: number): number {
    const handle = this.nextHandle++;
    this.pending.set(handle, { callback, ms });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }

  /** The delays of the timers set and not yet fired or cleared. */
  get delays(): number[] {
    return [...this.pending.values()].map((timer) => timer.ms);
  }

  /** Fires every pending timer once. */
  fire(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.callback();
  }
}

/** Lets the promise callbacks queued so far run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A task whose runs each wait until the test ends them. */
function controlledTask() {
  const runs: Array<() => void> = [];
  return {
    runs,
    task: () => new Promise<void>((resolve) => runs.push(resolve)),
    endLatest: () => runs[runs.length - 1]!(),
  };
}

describe('Poller (public/js/poller.js)', () => {
  it('runs the task at once, then again one interval after each run ends', async () => {
    const timers = new ManualTimers();
    const { runs, task, endLatest } = controlledTask();
    const poller = new Poller({ task, intervalMs: 2000, timers });
    poller.start();
    expect(runs).toHaveLength(1);
    expect(timers.delays).toEqual([]);
    endLatest();
    await settle();
    expect(timers.delays).toEqual([2000]);
    timers.fire();
    expect(runs).toHaveLength(2);
    poller.stop();
  });

  it('never has two runs at once: the wait starts only when a slow run is over', async () => {
    const timers = new ManualTimers();
    const { runs, task, endLatest } = controlledTask();
    const poller = new Poller({ task, intervalMs: 2000, timers });
    poller.start();
    poller.start();
    await settle();
    expect(runs).toHaveLength(1);
    expect(timers.delays).toEqual([]);
    endLatest();
    await settle();
    expect(timers.delays).toEqual([2000]);
    poller.stop();
  });

  it('stops: the next run is cancelled, and a run in flight schedules nothing when it ends', async () => {
    const timers = new ManualTimers();
    const { runs, task, endLatest } = controlledTask();
    const poller = new Poller({ task, intervalMs: 2000, timers });
    poller.start();
    endLatest();
    await settle();
    poller.stop();
    expect(timers.delays).toEqual([]);
    expect(poller.isRunning).toBe(false);

    poller.start();
    expect(runs).toHaveLength(2);
    poller.stop();
    endLatest();
    await settle();
    expect(timers.delays).toEqual([]);
    expect(runs).toHaveLength(2);
  });

  it('goes on polling after a run that failed', async () => {
    const timers = new ManualTimers();
    let calls = 0;
    const poller = new Poller({
      task: () => {
        calls += 1;
        return Promise.reject(new Error('server gone'));
      },
      intervalMs: 2000,
      timers,
    });
    poller.start();
    await settle();
    timers.fire();
    await settle();
    expect(calls).toBe(2);
    expect(timers.delays).toEqual([2000]);
    poller.stop();
  });
});
