import { isTerminal, type Build } from './build-record.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** How many finished builds are kept (KEEP_BUILDS, per project) and for how long (KEEP_DAYS); 0 = no limit. */
export interface RetentionPolicy {
  readonly keepBuilds: number;
  readonly keepDays: number;
}

/**
 * The finished builds that retention deletes, from builds listed newest first: those older
 * than keepDays (by when they finished), and those whose project has keepBuilds or more newer
 * finished builds. Queued and running builds are never chosen, and do not count as newer.
 */
export function selectExpiredBuilds(newestFirst: Iterable<Build>, policy: RetentionPolicy, nowMs: number): string[] {
  const expired: string[] = [];
  const keptByProject = new Map<string, number>();
  const oldestKeptMs = policy.keepDays > 0 ? nowMs - policy.keepDays * DAY_MS : -Infinity;
  for (const build of newestFirst) {
    if (!isTerminal(build.status)) continue;
    const newer = keptByProject.get(build.projectPath) ?? 0;
    keptByProject.set(build.projectPath, newer + 1);
    const isTooMany = policy.keepBuilds > 0 && newer >= policy.keepBuilds;
    if (isTooMany || endedAtMs(build) < oldestKeptMs) expired.push(build.id);
  }
  return expired;
}

/** When a build ended; a record without a (valid) finishedAt ages from its creation. */
function endedAtMs(build: Build): number {
  const finished = build.finishedAt === null ? NaN : Date.parse(build.finishedAt);
  return Number.isNaN(finished) ? Date.parse(build.createdAt) : finished;
}
