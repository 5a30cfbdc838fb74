import { fork, type ChildProcess } from 'node:child_process';
import type { DoneReport, ReadCommand, ReaderReport } from '../load/reader-protocol.js';
import { registerChild, stopChild } from './child-registry.js';

/** One read in flight: resolves when its clients are answered, then when their streams are closed. */
export interface StreamRead {
  /** The number of clients that did not get a 200. */
  readonly answered: Promise<number>;
  readonly done: Promise<DoneReport>;
}

interface Waiters {
  answered(failed: number): void;
  done(report: DoneReport): void;
  fail(error: Error): void;
}

/** Every stream reader started in this run (the report lists them, to check none is left). */
export const streamReaderPids: number[] = [];

/** The runner's handle on the stream reader child (bench/load/stream-reader.ts). */
export class StreamReaders {
  private readonly waiters = new Map<number, Waiters>();
  private nextReadId = 1;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (report: ReaderReport) => this.onReport(report));
    // A send on a channel that just closed is reported here; the exit handler fails the reads.
    child.on('error', () => {});
    child.once('exit', (code, signal) => {
      for (const waiter of this.waiters.values()) waiter.fail(new Error(`the stream reader exited (${signal ?? code})`));
      this.waiters.clear();
    });
  }

  static start(entry: string): StreamReaders {
    // Plain node: the runner's TypeScript loader must not come along.
    const child = fork(entry, [], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    registerChild(child, false);
    if (child.pid !== undefined) streamReaderPids.push(child.pid);
    return new StreamReaders(child);
  }

  read(options: Omit<ReadCommand, 'cmd' | 'readId'>): StreamRead {
    const readId = this.nextReadId;
    this.nextReadId += 1;
    const answered = deferred<number>();
    const done = deferred<DoneReport>();
    this.waiters.set(readId, {
      answered: answered.resolve,
      done: done.resolve,
      fail: (error) => {
        answered.reject(error);
        done.reject(error);
      },
    });
    this.child.send({ cmd: 'read', readId, ...options } satisfies ReadCommand);
    return { answered: answered.promise, done: done.promise };
  }

  /** Ends the child (by closing its channel). */
  async stop(): Promise<void> {
    await stopChild(this.child);
  }

  private onReport(report: ReaderReport): void {
    const waiter = report.readId === null ? null : this.waiters.get(report.readId);
    if (report.type === 'error') {
      const error = new Error(`stream reader: ${report.message}`);
      if (waiter) waiter.fail(error);
      else for (const w of this.waiters.values()) w.fail(error);
      return;
    }
    if (!waiter) return;
    if (report.type === 'answered') waiter.answered(report.failed);
    else {
      this.waiters.delete(report.readId);
      waiter.done(report);
    }
  }
}

/** A promise with its resolve and reject; a rejection nobody awaits yet is not reported as unhandled. */
function deferred<T>(): { promise: Promise<T>; resolve(value: T): void; reject(error: Error): void } {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {});
  return { promise, resolve, reject };
}
