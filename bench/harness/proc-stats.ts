import fs from 'node:fs';

/** Kernel clock ticks per second (USER_HZ), 100 on every Linux that Node supports. */
const TICKS_PER_SECOND = 100;

/**
 * CPU time of a process, all its threads, user and system, in ms: the sum of each thread's
 * run time in /proc/<pid>/task/<tid>/schedstat (nanoseconds; the tick-based figures of
 * /proc/<pid>/stat move in 10 ms steps, too coarse for a short cell). Falls back to stat.
 */
export function readCpuMs(pid: number): number {
  try {
    let totalNs = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        totalNs += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
    if (totalNs > 0) return totalNs / 1e6;
  } catch {
    // No schedstat on this kernel: use the tick-based figure.
  }
  return readTickCpuMs(pid);
}

/** User plus system CPU time from /proc/<pid>/stat, in ms (10 ms resolution). */
export function readTickCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / TICKS_PER_SECOND;
}

/** Resident set size of a process, bytes; null once it is gone. */
export function readRssBytes(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    return kb === undefined ? null : Number(kb) * 1024;
  } catch {
    return null;
  }
}
