import type { ChildProcess } from 'node:child_process';

/**
 * Every process a cluster test started and has not seen exit: a safety net for a test run
 * that ends abruptly, so that no redis-server or server process outlives it. Normal cleanup
 * (each test's own, and afterAll) does not rely on it.
 */
const owned = new Map<ChildProcess, { group: boolean }>();
let isHooked = false;

/** SIGKILL this child (its whole process group with `group`) if it still runs when the test process exits. */
export function killOnExit(child: ChildProcess, { group = false } = {}): void {
  owned.set(child, { group });
  if (isHooked) return;
  isHooked = true;
  process.once('exit', killAllOwned);
}

/** It exited: nothing to kill any more. */
export function forgetOnExit(child: ChildProcess): void {
  owned.delete(child);
}

/** SIGKILL to every owned process still running (synchronous, so it works in an 'exit' handler). */
export function killAllOwned(): void {
  for (const [child, { group }] of owned) {
    if (child.pid === undefined) continue;
    try {
      process.kill(group ? -child.pid : child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  owned.clear();
}
