/** How long a process group gets after SIGTERM before SIGKILL (the contract says 5 s). */
export const KILL_GRACE_MS = 5000;
const POLL_MS = 50;
/** After SIGKILL, how long to wait for the group to vanish (zombies may linger unreaped). */
const AFTER_KILL_WAIT_MS = 1000;

/** Sends a signal to every process of a group; false when none is left. */
export function signalGroup(groupId: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-groupId, signal);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return false;
    if (code === 'EPERM') return true; // someone is there, we may not signal it
    throw error;
  }
}

/**
 * Ends a whole process group: SIGTERM, then SIGKILL after graceMs if anything is left.
 * Resolves once the group is gone (or, after SIGKILL, when waiting longer would not help).
 */
export async function terminateGroup(groupId: number, graceMs: number = KILL_GRACE_MS): Promise<void> {
  if (!signalGroup(groupId, 'SIGTERM')) return;
  if (await waitUntilGone(groupId, graceMs)) return;
  signalGroup(groupId, 'SIGKILL');
  await waitUntilGone(groupId, AFTER_KILL_WAIT_MS);
}

async function waitUntilGone(groupId: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (!signalGroup(groupId, 0)) return true;
  }
  return false;
}
