import { isInside } from './project-path.js';
import { readCwd, type ProcessEntry } from './process-table.js';

/** What a crashed server knew of a build's processes. */
export interface OrphanedBuild {
  readonly id: string;
  readonly projectPath: string;
  /** The process group of the step that was running, if the record kept it. */
  readonly processGroup: number | null;
}

/**
 * Ends what a crashed server left of a build: every process that carries its
 * BUILDLOG_BUILD_ID, wherever it went, and the members of the recorded process group that
 * still work inside the build's project folder (processes of builds from before the id was
 * set), so that a group id reused since (after a reboot, say) never takes an unrelated process
 * down. Returns how many processes it signalled.
 */
export function killOrphans(build: OrphanedBuild, table: readonly ProcessEntry[] | null, serverPid = process.pid, procDir = '/proc'): number {
  if (!table) return 0;
  let killed = 0;
  for (const entry of table) {
    if (entry.isZombie || entry.pid === serverPid) continue;
    const isMarked = entry.buildId === build.id;
    const isGroupMember = build.processGroup !== null && entry.processGroup === build.processGroup;
    if (!isMarked && !(isGroupMember && isInsideProject(entry.pid, build.projectPath, procDir))) continue;
    try {
      process.kill(entry.pid, 'SIGKILL');
      killed += 1;
    } catch {
      // Gone already.
    }
  }
  return killed;
}

function isInsideProject(pid: number, projectPath: string, procDir: string): boolean {
  const cwd = readCwd(pid, procDir);
  return cwd !== null && isInside(cwd, projectPath);
}
