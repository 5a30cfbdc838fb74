import type { ChildProcess } from 'node:child_process';
import { forgetOnExit, onExit } from './exit-cleanup.js';

/**
 * Every child process the bench starts is SIGKILLed when the bench stops, whatever stops it
 * (see exit-cleanup). Servers run in process groups of their own and are killed group-wide.
 */
export function registerChild(child: ChildProcess, isGroup: boolean): { forget(): void } {
  const pid = child.pid;
  const kill = () => {
    if (pid === undefined) return;
    try {
      process.kill(isGroup ? -pid : pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  onExit(kill);
  const forget = () => forgetOnExit(kill);
  // Once a process has exited its pid may be reused: never signal it again. A group is
  // forgotten by its owner, after it has killed what the group still held.
  if (!isGroup) child.once('exit', forget);
  return { forget };
}

/** Ends a forked child by closing its channel (so it can finish, e.g. write a profile); SIGKILL after 5 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected) child.disconnect();
  else child.kill('SIGKILL');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}
