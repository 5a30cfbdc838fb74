import { readCommand, readProcessTable, type ProcessEntry } from './process-table.js';

/** How long a build's processes get after SIGTERM before SIGKILL (the contract says 5 s). */
export const KILL_GRACE_MS = 5000;
/** After SIGKILL, how long to wait for the processes to vanish (one in the kernel's hands may take a moment). */
const AFTER_KILL_WAIT_MS = 1000;
const POLL_MS = 50;

/** A process of a build, named for people. */
export interface BuildProcess {
  readonly pid: number;
  readonly command: string;
  /** In the process group of the step that runs now (false: it left it, e.g. with setsid). */
  readonly isInGroup: boolean;
}

/**
 * Every process of one build: the process group of the step that runs now, and every process
 * that still carries the build's BUILDLOG_BUILD_ID after leaving that group (setsid, a double
 * fork, nohup), found in /proc. Ends them all together: SIGTERM, then SIGKILL after the grace
 * period to what is left, including processes started in the meantime.
 */
export class BuildProcesses {
  /** The process group of the step that runs now (its leader's pid), or null between steps. */
  group: number | null = null;
  private termination: Promise<void> | null = null;

  constructor(
    readonly buildId: string,
    private readonly procDir = '/proc',
    private readonly serverPid = process.pid,
  ) {}

  /** The build's live processes (zombies left out: they run nothing and hold nothing). */
  find(): BuildProcess[] {
    const table = readProcessTable(this.procDir);
    if (!table) return [];
    return this.members(table).map((entry) => ({
      pid: entry.pid,
      command: readCommand(entry.pid, this.procDir),
      isInGroup: entry.processGroup === this.group,
    }));
  }

  /**
   * SIGTERM to every process of the build, SIGKILL to what is left after graceMs; resolves
   * once none is left, or AFTER_KILL_WAIT_MS after the SIGKILL. A call while an ending is
   * under way joins it.
   */
  terminate(graceMs: number = KILL_GRACE_MS): Promise<void> {
    this.termination ??= this.endAll(graceMs).finally(() => {
      this.termination = null;
    });
    return this.termination;
  }

  private async endAll(graceMs: number): Promise<void> {
    const killAtMs = Date.now() + graceMs;
    const sent = new Map<number, NodeJS.Signals>();
    let groupSignal: NodeJS.Signals | null = null;
    for (;;) {
      const nowMs = Date.now();
      const signal: NodeJS.Signals = nowMs >= killAtMs ? 'SIGKILL' : 'SIGTERM';
      const table = readProcessTable(this.procDir);
      const members = table ? this.members(table) : [];
      const isGroupAlive = this.group !== null && (table ? members.some((m) => m.processGroup === this.group) : signalGroup(this.group, 0));
      if (members.length === 0 && !isGroupAlive) return;
      if (signal === 'SIGKILL' && nowMs >= killAtMs + AFTER_KILL_WAIT_MS) return;
      if (isGroupAlive && groupSignal !== signal) {
        signalGroup(this.group!, signal);
        groupSignal = signal;
      }
      for (const { pid } of members) {
        if (sent.get(pid) === signal) continue;
        signalProcess(pid, signal);
        sent.set(pid, signal);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  private members(table: readonly ProcessEntry[]): ProcessEntry[] {
    return table.filter(
      (entry) => !entry.isZombie && entry.pid !== this.serverPid && (entry.buildId === this.buildId || (this.group !== null && entry.processGroup === this.group)),
    );
  }
}

/** Sends a signal to every process of a group; false when none is left. */
export function signalGroup(groupId: number, signal: NodeJS.Signals | 0): boolean {
  return signalProcess(-groupId, signal);
}

function signalProcess(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch (error) {
    // ESRCH: gone. EPERM: someone is there, whom we may not signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
