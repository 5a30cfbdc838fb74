/**
 * Synchronous clean-ups (kill the children, remove temp folders) that run however the bench
 * stops: normally, on an error, or on Ctrl-C.
 */
const cleanups = new Set<() => void>();

/** Registers a clean-up; returns a function that runs it now (once) and forgets it. */
export function onExit(cleanup: () => void): () => void {
  cleanups.add(cleanup);
  return () => {
    if (!cleanups.delete(cleanup)) return;
    cleanup();
  };
}

/** Forgets a clean-up without running it (what it cleans is already gone). */
export function forgetOnExit(cleanup: () => void): void {
  cleanups.delete(cleanup);
}

export function runExitCleanups(): void {
  for (const cleanup of [...cleanups].reverse()) {
    try {
      cleanup();
    } catch {
      // Keep going: the others must run too.
    }
  }
  cleanups.clear();
}

let isInstalled = false;

export function installExitCleanup(): void {
  if (isInstalled) return;
  isInstalled = true;
  process.once('exit', runExitCleanups);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      runExitCleanups();
      process.exit(130);
    });
  }
}
