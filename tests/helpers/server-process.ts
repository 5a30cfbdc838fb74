import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../../src/paths.js';

export interface ServerProcess {
  readonly url: string;
  readonly port: number;
  /** The pid of the node process that runs the server (below npm, when started through it). */
  readonly serverPid: number;
  readonly child: ChildProcess;
  /** Everything it printed so far. */
  output(): string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  /** SIGKILL to its whole process group (cleanup). */
  killAll(): void;
}

/**
 * Starts the compiled server (dist/, built by `npm test`'s pretest) as a real process, as
 * production runs it: `node dist/main.js`, or `npm start` with `viaNpm`. Resolves once it
 * logged the URL it listens on.
 */
export async function spawnServer(
  env: Record<string, string>,
  { viaNpm = false, openFilesLimit }: { viaNpm?: boolean; openFilesLimit?: number } = {},
): Promise<ServerProcess> {
  const [direct, directArgs] = viaNpm ? ['npm', ['start', '--silent']] : [process.execPath, [path.join(repoRoot, 'dist', 'main.js')]];
  // `openFilesLimit`: the soft limit of open files (`ulimit -n`) the server starts under; exec keeps the pid.
  const [command, args] =
    openFilesLimit === undefined ? [direct, directArgs] : ['bash', ['-c', `ulimit -n ${openFilesLimit} && exec "$@"`, 'bash', direct, ...directArgs]];
  const child = spawn(command, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: process.env.LANG, PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      killGroup(); // never leave a half-started server behind
      reject(new Error(`server did not start: ${output.slice(-500)}`));
    }, 60000);
    const onData = () => {
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (!match) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve(match[1]!);
    };
    child.stdout!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`server exited before it was ready: ${output.slice(-500)}`));
    });
  });
  const port = Number(new URL(url).port);
  return {
    url,
    port,
    serverPid: listenerPid(port) ?? child.pid!,
    child,
    output: () => output,
    exited,
    killAll: killGroup,
  };
}

/** The pid of the process listening on a TCP port, from /proc/net/tcp and each process's fds. */
function listenerPid(port: number): number | null {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields[1]?.endsWith(`:${hexPort}`) && fields[3] === '0A') inodes.add(fields[9]!);
    }
  }
  for (const pid of fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      }
    } catch {
      // not ours to read, or gone
    }
  }
  return null;
}
