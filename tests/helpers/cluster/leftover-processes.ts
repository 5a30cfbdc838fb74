import fs from 'node:fs';
import path from 'node:path';

/**
 * The pids of processes whose working directory is inside `folder`: what builds started in
 * the test's projects (yarn, the fixture, its grandchild, an escaped daemon), whichever
 * server process started them and whether or not it is still alive.
 */
export function processesWorkingIn(folder: string): number[] {
  const inside = path.resolve(folder) + path.sep;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${entry}/cwd`);
      if ((cwd + path.sep).startsWith(inside)) found.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

/** SIGKILL to every process working inside `folder` (cleanup after a worker was killed mid-build). */
export function killProcessesWorkingIn(folder: string): void {
  for (const pid of processesWorkingIn(folder)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
}
