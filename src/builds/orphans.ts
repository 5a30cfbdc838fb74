import fs from 'node:fs';
import path from 'node:path';
import { isInside } from './project-path.js';

/**
 * Ends what a crashed server left of a build: the processes of the recorded process group,
 * but only those still working inside the build's project folder, so that a group id reused
 * since (after a reboot, say) never takes an unrelated process down. Reads /proc (Linux);
 * elsewhere it finds nothing. Returns how many processes it signalled.
 */
export function killOrphanedGroup(processGroup: number, projectPath: string, procDir = '/proc'): number {
  let killed = 0;
  for (const pid of groupMembers(processGroup, procDir)) {
    let cwd: string;
    try {
      cwd = fs.readlinkSync(path.join(procDir, String(pid), 'cwd'));
    } catch {
      continue;
    }
    if (!isInside(cwd, projectPath)) continue;
    try {
      process.kill(pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Gone already.
    }
  }
  return killed;
}

function groupMembers(processGroup: number, procDir: string): number[] {
  let entries: string[];
  try {
    entries = fs.readdirSync(procDir);
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(path.join(procDir, entry, 'stat'), 'utf8');
      // Fields after the command name (which may hold spaces) start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === processGroup) members.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return members;
}
