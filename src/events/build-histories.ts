import type { BuildEventWriter } from './build-event-writer.js';
import type { EndEventData } from './event-data.js';

/** A stored build's history as start-up finds it. */
export type ReopenedHistory =
  /** It ends with its `end`: the build's record may not have been saved after it (a crash in between). */
  | { readonly end: EndEventData; readonly writer: null }
  /** It lacks its `end` (a crash, or a disk that refused it), and is open for the rest; a torn last frame is cut off first. */
  | { readonly end: null; readonly writer: BuildEventWriter };

/**
 * The build histories of one process, as its BuildService writes them (LocalEventLog): a
 * writer for each new build, the start-up check of a stored one, and forgetting one that
 * retention deleted. Files, torn tails and what the disk refuses stay behind it.
 */
export interface BuildHistories {
  /** Starts the history of a new build; `onRefused` hears of the first write the storage refuses. */
  createBuild(buildId: string, onRefused: (error: Error) => void): BuildEventWriter;
  /** At start-up, a stored build whose record does not say its history is sealed. */
  reopenBuild(buildId: string): Promise<ReopenedHistory>;
  /** Forgets a build that retention deleted: its readers get no more. */
  deleteBuild(buildId: string): void;
}
