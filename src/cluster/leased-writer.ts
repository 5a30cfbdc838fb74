import type { BuildRecord } from '../builds/build-record.js';
import { systemLine } from '../builds/build-state.js';
import type { BuildEventWriter } from '../events/build-event-writer.js';
import type { NewEvent } from '../events/event-log.js';
import type { Logger } from '../logger.js';
import { eventBody, type ClusterStore, type EventBody } from './cluster-store.js';

/**
 * Output a worker keeps while Redis does not take it. Past this, log lines are counted
 * instead of kept, and a system line says how many were dropped once Redis answers again.
 */
export const MAX_PENDING_BYTES = 64 << 20;
const RETRY_MS = [50, 100, 250, 500, 1000];
/**
 * One write to Redis takes at most this many events or bytes: a build that prints faster than
 * Redis takes its writes (or any build during a stall) would otherwise pile up one batch too
 * big to send (tens of thousands of script arguments overflow the call stack).
 */
export const MAX_BATCH_EVENTS = 1000;
export const MAX_BATCH_BYTES = 1 << 20;

/** How many of the pending events the next batch takes: at least one, within both limits. */
function batchLength(events: readonly EventBody[]): number {
  let bytes = 0;
  let count = 0;
  while (count < events.length && count < MAX_BATCH_EVENTS) {
    bytes += events[count]![1].length;
    if (count > 0 && bytes > MAX_BATCH_BYTES) break;
    count += 1;
  }
  return count;
}

interface Batch {
  readonly number: number;
  readonly events: EventBody[];
  /** The sequence number of the last appended event it holds (see StoredWaiter). */
  readonly lastSeq: number;
  readonly record: BuildRecord | null;
  readonly isEnd: boolean;
}

/** Appends that resolve together: once every event up to `lastSeq` is in Redis. */
interface StoredWaiter {
  lastSeq: number;
  readonly promise: Promise<boolean>;
  readonly resolve: (isStored: boolean) => void;
}

const NOT_STORED = Promise.resolve(false);

/**
 * The writes of one running build to Redis, under the lease its worker took: events and
 * record changes of a tick go out as one batch (one script), one batch at a time, in order.
 * A batch whose answer is lost (a dropped connection) is sent again with the same number, and
 * Redis applies it once. A write refused because the lease is gone (the worker was declared
 * lost, or Redis lost the build) stops the build: nothing of it is written any more.
 * An append resolves once the batch that holds it is applied (the appends between two batches
 * share one promise).
 */
export class LeasedBuildWriter implements BuildEventWriter {
  private events: EventBody[] = [];
  private record: string | null = null;
  private isEndPending = false;
  private pendingBytes = 0;
  private inFlightBytes = 0;
  private droppedLines = 0;
  private nextBatch = 1;
  private inFlight: Batch | null = null;
  private scheduled: NodeJS.Immediate | null = null;
  private isFenced = false;
  private drainWaiters: Array<() => void> = [];
  /** Events appended and kept so far, and those of them taken into batches. */
  private appendedSeq = 0;
  private takenSeq = 0;
  private storedWaiters: StoredWaiter[] = [];
  /** The waiter of appends not yet taken into a batch. */
  private openWaiter: StoredWaiter | null = null;

  constructor(
    private readonly store: ClusterStore,
    private readonly build: BuildRecord['build'],
    private readonly lease: string,
    private readonly onFenced: (reason: 'fenced' | 'gone') => void,
    private readonly logger: Logger,
  ) {}

  append(event: NewEvent): Promise<boolean> {
    if (this.isFenced) return NOT_STORED;
    const body = eventBody(event);
    if (event.event === 'log' && this.bytesPending > MAX_PENDING_BYTES) {
      this.droppedLines += 1;
      return NOT_STORED;
    }
    if (event.event === 'end') this.isEndPending = true;
    this.events.push(body);
    this.pendingBytes += body[1].length;
    this.appendedSeq += 1;
    this.schedule();
    return this.waitStored(this.appendedSeq);
  }

  /** The record saved next goes in the same write as the `end` (or a later one), never before it. */
  seal(): boolean {
    return true;
  }

  save(record: BuildRecord): void {
    if (this.isFenced) return;
    this.record = JSON.stringify(record);
    this.schedule();
  }

  /** Resolves once everything given so far is in Redis (or can never be). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /** Bytes not yet in Redis: waiting for the next batch, or in the batch being sent. */
  get bytesPending(): number {
    return this.pendingBytes + this.inFlightBytes;
  }

  private isIdle(): boolean {
    return this.isFenced || (this.inFlight === null && this.events.length === 0 && this.record === null && this.scheduled === null);
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      void this.sendNext();
    });
  }

  private waitStored(seq: number): Promise<boolean> {
    if (!this.openWaiter) {
      let resolve: (isStored: boolean) => void = () => {};
      const promise = new Promise<boolean>((done) => (resolve = done));
      this.openWaiter = { lastSeq: seq, promise, resolve };
      this.storedWaiters.push(this.openWaiter);
    }
    this.openWaiter.lastSeq = seq;
    return this.openWaiter.promise;
  }

  /** Resolves the appends up to `seq` (all of them when the writer is fenced). */
  private settleStored(seq: number, isStored: boolean): void {
    while (this.storedWaiters.length > 0 && (!isStored || this.storedWaiters[0]!.lastSeq <= seq)) this.storedWaiters.shift()!.resolve(isStored);
    if (this.storedWaiters.length === 0) this.openWaiter = null;
  }

  private takeBatch(): Batch | null {
    if (this.events.length === 0 && this.record === null) return null;
    const events = this.events;
    const isDropNoted = this.droppedLines > 0;
    if (isDropNoted) {
      const text = `${this.droppedLines} lines of output were dropped: Redis did not take them and the worker's buffer (${MAX_PENDING_BYTES >> 20} MiB) was full`;
      events.unshift(eventBody(systemLine(this.build.id, null, text, Date.now())));
      this.droppedLines = 0;
    }
    const count = batchLength(events);
    const taken = count === events.length ? events : events.slice(0, count);
    const isLast = count === events.length;
    // The drop's line leads the batch and is no append of the run's.
    this.takenSeq += isDropNoted ? count - 1 : count;
    this.openWaiter = null;
    // The record (and an end) go with the batch that leaves nothing behind: a record may never
    // say more than the events already in Redis (a terminal record there means the end is in).
    const batch: Batch = {
      number: this.nextBatch,
      events: taken,
      lastSeq: this.takenSeq,
      record: isLast && this.record !== null ? (JSON.parse(this.record) as BuildRecord) : null,
      isEnd: isLast && this.isEndPending,
    };
    this.nextBatch += 1;
    this.events = isLast ? [] : events.slice(count);
    if (isLast) {
      this.record = null;
      this.isEndPending = false;
    }
    // Counted down by what left, not summed again: a backlog is sent in many batches.
    this.pendingBytes = isLast ? 0 : Math.max(0, this.pendingBytes - taken.reduce((sum, [, body]) => sum + body.length, 0));
    return batch;
  }

  private async sendNext(): Promise<void> {
    const batch = this.takeBatch();
    if (!batch) {
      this.notifyIfIdle();
      return;
    }
    this.inFlight = batch;
    this.inFlightBytes = batch.events.reduce((sum, [, body]) => sum + body.length, 0);
    for (let attempt = 0; !this.isFenced; attempt += 1) {
      try {
        const reply = await this.store.commit(
          { build: this.build },
          { expectedLease: this.lease, newLease: batch.isEnd ? 'done' : null, batch: batch.number, record: batch.record, isEnd: batch.isEnd, events: batch.events },
        );
        if (reply === 'fenced' || reply === 'gone') {
          this.isFenced = true;
          this.logger.warn({ build: this.build.id, reply }, 'Redis refused a write to a build this worker no longer holds; it is stopped');
          this.onFenced(reply);
        }
        break;
      } catch (error) {
        // Kept in memory and sent again with the same batch number: applied once, whatever the failure.
        if (attempt === 0) this.logger.warn({ build: this.build.id, err: error }, 'Redis did not take a build write; retrying');
        await sleep(RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)]!);
      }
    }
    this.inFlightBytes = 0;
    this.inFlight = null;
    if (this.isFenced) {
      this.events = [];
      this.record = null;
      this.settleStored(this.appendedSeq, false);
      this.notifyIfIdle();
      return;
    }
    this.settleStored(batch.lastSeq, true);
    if (this.events.length > 0 || this.record !== null) void this.sendNext();
    else this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
