import fs from 'node:fs';
import path from 'node:path';
import { BUILD_ID_VARIABLE } from './build-env.js';

/** One process as /proc shows it. */
export interface ProcessEntry {
  readonly pid: number;
  readonly processGroup: number;
  /** Exited, waiting for its parent to reap it: it runs nothing and holds nothing. */
  readonly isZombie: boolean;
  /** The BUILDLOG_BUILD_ID it was started with, or null (none, or not ours to read). */
  readonly buildId: string | null;
}

const MARK = Buffer.from(`${BUILD_ID_VARIABLE}=`);
/** A command line is cut here in system lines. */
const MAX_COMMAND_CHARS = 200;

/**
 * Every process of the machine with its group and build id, read from /proc (Linux); null
 * when /proc cannot be read (another system, or no file descriptor left to read it with).
 * A process's environment is the one it was started with, which is where a build's
 * processes carry its id wherever they go (setsid, double fork, nohup).
 */
export function readProcessTable(procDir = '/proc'): ProcessEntry[] | null {
  let names: string[];
  try {
    names = fs.readdirSync(procDir);
  } catch {
    return null;
  }
  const entries: ProcessEntry[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(path.join(procDir, name));
    if (stat) entries.push({ pid: Number(name), ...stat, buildId: readBuildId(path.join(procDir, name)) });
  }
  return entries;
}

/** Whether a process has exited (gone, or a zombie not yet reaped); false when /proc cannot tell. */
export function hasExited(pid: number, procDir = '/proc'): boolean {
  const dir = path.join(procDir, String(pid));
  const stat = readStat(dir);
  if (stat) return stat.isZombie;
  return !fs.existsSync(procDir) ? false : !fs.existsSync(dir);
}

/** The command line of a process, for people (`sleep 300`); its name when the line is empty. */
export function readCommand(pid: number, procDir = '/proc'): string {
  try {
    const line = fs.readFileSync(path.join(procDir, String(pid), 'cmdline')).toString('utf8').split('\0').filter(Boolean).join(' ');
    if (line) return line.length > MAX_COMMAND_CHARS ? `${line.slice(0, MAX_COMMAND_CHARS)}…` : line;
    return fs.readFileSync(path.join(procDir, String(pid), 'comm'), 'utf8').trim() || '?';
  } catch {
    return '?';
  }
}

/** The working folder of a process, or null. */
export function readCwd(pid: number, procDir = '/proc'): string | null {
  try {
    return fs.readlinkSync(path.join(procDir, String(pid), 'cwd'));
  } catch {
    return null;
  }
}

function readStat(dir: string): { processGroup: number; isZombie: boolean } | null {
  try {
    const stat = fs.readFileSync(path.join(dir, 'stat'), 'utf8');
    // Fields after the command name (which may hold spaces and parentheses) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { processGroup: Number(fields[2]), isZombie: fields[0] === 'Z' };
  } catch {
    return null; // ended while we looked
  }
}

function readBuildId(dir: string): string | null {
  let environ: Buffer;
  try {
    environ = fs.readFileSync(path.join(dir, 'environ'));
  } catch {
    return null; // not ours to read, or ended
  }
  for (let at = environ.indexOf(MARK); at !== -1; at = environ.indexOf(MARK, at + 1)) {
    if (at > 0 && environ[at - 1] !== 0) continue; // the mark inside another variable's value
    const end = environ.indexOf(0, at);
    return environ.toString('utf8', at + MARK.length, end === -1 ? environ.length : end);
  }
  return null;
}
