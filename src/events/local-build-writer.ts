import type { BuildEventWriter } from './build-event-writer.js';
import type { NewEvent } from './event-log.js';

/** What a build's writer needs of the log of this process: queue an event, write out the queue. */
export interface LocalEventQueue {
  /** Queues an event for the next flush; returns its id. */
  append(event: NewEvent): string;
  flush(): void;
}

/**
 * The writer of one build on the event log of this process (LocalEventLog). The log writes
 * what was queued in a tick at the end of it, so the appends of a tick resolve together, once
 * the build's history file has them. The first write the disk refuses goes to `onRefused`,
 * once: the history goes on in memory (its readers miss nothing), but it is not whole on disk
 * any more, and sealing says so.
 */
export class LocalBuildWriter implements BuildEventWriter {
  private stored: { readonly promise: Promise<boolean>; readonly resolve: (isStored: boolean) => void } | null = null;
  private refusal: Error | null = null;

  constructor(
    private readonly queue: LocalEventQueue,
    readonly buildId: string,
    private readonly onRefused: (error: Error) => void,
  ) {}

  append(event: NewEvent): Promise<boolean> {
    if (event.buildId !== this.buildId) throw new Error(`the writer of build ${this.buildId} was given an event of build ${event.buildId}`);
    this.queue.append(event);
    if (!this.stored) {
      let resolve: (isStored: boolean) => void = () => {};
      const promise = new Promise<boolean>((done) => (resolve = done));
      this.stored = { promise, resolve };
    }
    return this.stored.promise;
  }

  seal(): boolean {
    this.queue.flush();
    return this.refusal === null;
  }

  /**
   * The log has written what was queued for this build; `failure` is the first write of its
   * history that the disk refused, if one ever was (what came after it was not written either).
   */
  flushed(failure: Error | null): void {
    const { stored } = this;
    // Cleared first: a refusal stops the build, whose next events resolve with the next flush.
    this.stored = null;
    if (failure && !this.refusal) {
      this.refusal = failure;
      this.onRefused(failure);
    }
    stored?.resolve(failure === null);
  }
}
