import fs from 'node:fs';

/** Whether a process exists and is not a zombie (an exited child nobody reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The pid a `slow` fixture build wrote for its grandchild, once it is there. */
export function readGrandchildPid(projectDir: string): number | null {
  try {
    const pid = Number(fs.readFileSync(`${projectDir}/grandchild.pid`, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** The pid a fixture wrote to `<projectDir>/<name>`, once it is there. */
export function readPidFile(projectDir: string, name: string): number | null {
  try {
    const pid = Number(fs.readFileSync(`${projectDir}/${name}`, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** SIGKILL to a process a test left behind, if it is still there (cleanup). */
export function killIfAlive(pid: number | null): void {
  if (pid === null) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
