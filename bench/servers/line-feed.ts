import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Every build.js still running: none may outlive the server that started it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Receives the whole lines of one stdout chunk, stamped with the chunk's arrival time. */
export type LinesListener = (lines: readonly string[], atMs: number) => void;

/**
 * Runs the fixture's build.js (the same script the real server runs through `yarn build`)
 * and turns its stdout into lines, a chunk at a time, as the real server does. This is how
 * the LIMIT and SEED servers get exactly the same lines at the same pace.
 */
export class LineFeed {
  private readonly child: ChildProcess;
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  readonly done: Promise<void>;

  constructor(projectDir: string, onLines: LinesListener) {
    this.child = spawn(process.execPath, [path.join(projectDir, 'build.js')], { cwd: projectDir, stdio: ['ignore', 'pipe', 'ignore'] });
    running.add(this.child);
    this.child.once('exit', () => running.delete(this.child));
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const lines = this.split(this.decoder.write(chunk));
      if (lines.length > 0) onLines(lines, Date.now());
    });
    this.done = new Promise((resolve) => {
      this.child.once('close', () => resolve());
      this.child.once('error', () => resolve());
    });
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }

  private split(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    const data = this.pending + text;
    for (let newline = data.indexOf('\n'); newline !== -1; newline = data.indexOf('\n', start)) {
      lines.push(data.slice(start, newline));
      start = newline + 1;
    }
    this.pending = data.slice(start);
    return lines;
  }
}
