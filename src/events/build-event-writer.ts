import type { NewEvent } from './event-log.js';

/**
 * Where the events of one running build go, in order: its history file in this process
 * (LocalEventLog), or a cluster's Redis under the lease of the worker that runs it
 * (LeasedBuildWriter). The storage assigns the ids and frames the events; the run only hands
 * them over. How a writer tells of a storage that refuses it is each one's own (a callback
 * given when it is made), as is what happens to the events after that.
 */
export interface BuildEventWriter {
  /**
   * Appends the build's next event. Appends are queued and written together (one write per
   * tick, or per batch); this resolves once the event is stored: true, or false when it never
   * will be (the storage refused it, the writer lost the build, or the line was dropped).
   * It never rejects, so a run need not wait for it.
   */
  append(event: NewEvent): Promise<boolean>;
  /**
   * The build's `end` is appended: writes out what is queued, and says whether the record saved
   * next may say the history is whole (BuildRecord.isHistorySealed).
   */
  seal(): boolean;
}
