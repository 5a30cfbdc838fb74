import type { Logger } from '../logger.js';
import type { Frame } from '../sse/encode-frame.js';
import type { BuildEventWriter } from './build-event-writer.js';
import type { BuildHistories, ReopenedHistory } from './build-histories.js';
import { BuildHistory, nodeHistoryFileSystem, type HistoryFileSystem } from './build-history.js';
import type { EndEventData, ResetEventData } from './event-data.js';
import type { EventStreams, NewEvent, StreamEventName, StreamFinished, StreamStart } from './event-log.js';
import { newBootTag, formatEventId, parseEventId } from './event-id.js';
import { GLOBAL_FEED, type FeedAppend } from './feed.js';
import { GlobalHistory } from './global-history.js';
import { HistoryChunkCache } from './history-chunk-cache.js';
import { LocalBuildWriter } from './local-build-writer.js';
import { readLastFrame } from './read-last-frame.js';

/** The contract: the global stream keeps at least the last 10,000 events for resuming. */
export const GLOBAL_HISTORY_EVENTS = 10000;

/** Memory for chunks of build histories shared by their readers (see HistoryChunkCache). */
export const HISTORY_CACHE_BYTES = 64 << 20;

/**
 * Histories of finished builds kept open after their last reader left: the global history
 * reads its older events from them, and a catching-up reader of events that alternate
 * between builds would otherwise open and close a file for every event.
 */
const IDLE_HISTORIES_KEPT = 8;

export interface LocalEventLogOptions {
  /** The file that holds a build's history. */
  historyFile(buildId: string): string;
  /** Turns an event into its bytes on the wire (sse/encode-frame.ts). */
  encodeFrame(frame: Frame): string;
  /** Told of what the disk refuses and of what start-up finds wrong in a history. */
  logger: Logger;
  globalHistoryEvents?: number;
  historyCacheBytes?: number;
  fileSystem?: HistoryFileSystem;
  boot?: string;
}

interface PendingEvent {
  readonly buildId: string;
  readonly number: number;
  readonly frame: string;
  /** The frame's length in bytes. */
  readonly size: number;
  readonly isGlobal: boolean;
  readonly isFinal: boolean;
}

interface BuildFeedState {
  readonly history: BuildHistory;
  /** Positions handed out so far, flushed or not. */
  assigned: number;
  /** The build's writer, while events are appended to it (a history opened for its readers has none). */
  writer: LocalBuildWriter | null;
}

const RESET_DATA = JSON.stringify({ reason: 'history_truncated' } satisfies ResetEventData);

/**
 * The event log of one server process: assigns ids, frames each event once, keeps the global
 * history in memory and each build's history in its own file, and answers where a
 * reconnecting client resumes. Events queued in one tick are flushed together at the end of
 * it, so each feed gets one write per tick however many lines came in. What the disk refuses
 * is logged and told to the build's writer; a history cut short by a crash is repaired here
 * at start-up (reopenBuild).
 */
export class LocalEventLog implements EventStreams, BuildHistories {
  readonly boot: string;
  private readonly global: GlobalHistory;
  private readonly builds = new Map<string, BuildFeedState>();
  private readonly opening = new Map<string, Promise<BuildFeedState>>();
  /** Open histories that nobody reads, oldest first (see IDLE_HISTORIES_KEPT). */
  private readonly idle = new Set<string>();
  private readonly appendListeners = new Set<(appends: readonly FeedAppend[]) => void>();
  private readonly fileSystem: HistoryFileSystem;
  private readonly cache: HistoryChunkCache;
  private pending: PendingEvent[] = [];
  private flushTimer: NodeJS.Immediate | null = null;
  private nextNumber = 1;
  eventsAppended = 0;

  constructor(private readonly options: LocalEventLogOptions) {
    this.boot = options.boot ?? newBootTag();
    this.global = new GlobalHistory(options.globalHistoryEvents ?? GLOBAL_HISTORY_EVENTS, (buildId, from, maxBytes) => this.readBuild(buildId, from, maxBytes));
    this.fileSystem = options.fileSystem ?? nodeHistoryFileSystem;
    this.cache = new HistoryChunkCache(options.historyCacheBytes ?? HISTORY_CACHE_BYTES);
  }

  createBuild(buildId: string, onRefused: (error: Error) => void = () => {}): BuildEventWriter {
    if (this.builds.has(buildId)) throw new Error(`build ${buildId} already has a history`);
    const history = BuildHistory.create(buildId, this.options.historyFile(buildId), this.fileSystem, this.cache);
    const writer = new LocalBuildWriter(this, buildId, onRefused);
    this.builds.set(buildId, { history, assigned: 0, writer });
    return writer;
  }

  /**
   * Reads only the tail of the history: one that ends with its `end` is not opened. Any other
   * is loaded for appending (what was wrong with it is logged), ids going on after its last.
   */
  async reopenBuild(buildId: string): Promise<ReopenedHistory> {
    this.flush();
    const last = await readLastFrame(this.options.historyFile(buildId));
    if (last?.event === 'end') return { end: JSON.parse(last.data) as EndEventData, writer: null };
    const { state, problem } = await this.load(buildId, true);
    if (problem) this.options.logger.warn({ build: buildId }, `history of build ${buildId}: ${problem}`);
    state.assigned = Math.max(state.assigned, state.history.eventCount);
    state.writer ??= new LocalBuildWriter(this, buildId, () => {});
    return { end: null, writer: state.writer };
  }

  /** Queues an event for the next flush (within the current tick) and returns its id. */
  append<E extends StreamEventName>({ buildId, event, data }: NewEvent<E>): string {
    const state = this.builds.get(buildId);
    if (!state) throw new Error(`build ${buildId} has no open history`);
    state.assigned += 1;
    this.eventsAppended += 1;
    const number = this.nextNumber;
    this.nextNumber += 1;
    const id = formatEventId({ boot: this.boot, global: number, build: state.assigned });
    const frame = this.options.encodeFrame({ id, event, data: JSON.stringify(data) });
    const size = Buffer.byteLength(frame, 'utf8');
    this.pending.push({ buildId, number, frame, size, isGlobal: event !== 'end', isFinal: event === 'end' });
    this.flushTimer ??= setImmediate(() => this.flush());
    return id;
  }

  /** Writes everything queued now, instead of at the end of the tick. */
  flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = null;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];

    const appends: FeedAppend[] = [];
    const byBuild = groupByBuild(batch);
    /** Where each event's frame lies in its build's history: the global history points there. */
    const buildOffsets = new Map<PendingEvent, number>();
    for (const [buildId, events] of byBuild) {
      const state = this.builds.get(buildId)!;
      const data = concatFrames(events);
      const isFinal = events.some((e) => e.isFinal);
      const { from, error } = state.history.append(data, endOffsets(events), isFinal);
      let offset = from;
      for (const event of events) {
        buildOffsets.set(event, offset);
        offset += event.size;
      }
      appends.push({ feed: buildId, from, to: from + data.length, data, isFinal });
      if (error) this.options.logger.error({ build: buildId, err: error }, 'cannot write a build history to DATA_DIR');
      state.writer?.flushed(state.history.failure);
      if (isFinal) this.closeIfIdle(buildId);
    }
    const globals = batch.filter((e) => e.isGlobal);
    if (globals.length > 0) {
      // Usually one build and no `end` in a tick: the global bytes are the build's bytes.
      const data = globals.length === batch.length && byBuild.size === 1 ? appends[0]!.data : concatFrames(globals);
      const from = this.global.append(
        globals.map((e) => ({ number: e.number, size: e.size, buildId: e.buildId, buildFrom: buildOffsets.get(e)! })),
      );
      appends.push({ feed: GLOBAL_FEED, from, to: from + data.length, data, isFinal: false });
    }
    for (const listener of this.appendListeners) listener(appends);
  }

  onAppend(listener: (appends: readonly FeedAppend[]) => void): () => void {
    this.appendListeners.add(listener);
    return () => this.appendListeners.delete(listener);
  }

  openGlobalStream(lastEventId: string | null): StreamStart {
    const release = () => {};
    if (lastEventId === null) return { feed: this.global, from: this.global.head(), preamble: null, release };
    const id = parseEventId(lastEventId);
    const from = id && id.boot === this.boot ? this.global.offsetAfter(id.global) : null;
    if (from !== null) return { feed: this.global, from, preamble: null, release };
    const resetId = formatEventId({ boot: this.boot, global: this.global.oldestDropped, build: 0 });
    return { feed: this.global, from: this.global.start, preamble: this.resetFrame(resetId), release };
  }

  async openBuildStream(buildId: string, lastEventId: string | null): Promise<StreamStart | StreamFinished> {
    const { state } = await this.load(buildId, false);
    const { history } = state;
    history.readers += 1;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      history.readers -= 1;
      this.closeIfIdle(buildId);
    };
    if (lastEventId === null) return { feed: history, from: 0, preamble: null, release };
    const id = parseEventId(lastEventId);
    const from = id ? await history.offsetAfter(id.build, id.global) : null;
    if (from === null) {
      const resetId = formatEventId({ boot: this.boot, global: 0, build: 0 });
      return { feed: history, from: 0, preamble: this.resetFrame(resetId), release };
    }
    if (history.isComplete() && from === history.head()) {
      release();
      return { isFinished: true };
    }
    return { feed: history, from, preamble: null, release };
  }

  /**
   * Bytes of a build's history for the global history, which keeps none of its own. The
   * history is held open for the read; a finished one is opened from its file if need be.
   */
  private async readBuild(buildId: string, from: number, maxBytes: number): Promise<Buffer | null> {
    let state: BuildFeedState;
    try {
      state = this.builds.get(buildId) ?? (await this.load(buildId, false)).state;
    } catch {
      return null;
    }
    const { history } = state;
    history.readers += 1;
    try {
      return await history.read(from, maxBytes);
    } finally {
      history.readers -= 1;
      this.closeIfIdle(buildId);
    }
  }

  /** Flushes and closes every file. */
  close(): void {
    this.flush();
    for (const { history } of this.builds.values()) history.close();
    this.builds.clear();
    this.idle.clear();
  }

  /**
   * The open history of a build, loading it from its file when it is not open. Running
   * builds are always open, so a history loaded here is over unless it is being repaired
   * (`forAppend`): it is sealed, for its readers to stop at its head.
   */
  private async load(buildId: string, forAppend: boolean): Promise<{ state: BuildFeedState; problem: string | null }> {
    const open = this.builds.get(buildId);
    if (open) return { state: open, problem: null };
    let loading = this.opening.get(buildId);
    let problem: string | null = null;
    if (!loading) {
      loading = BuildHistory.open(buildId, this.options.historyFile(buildId), this.fileSystem, this.cache).then(async (result) => {
        problem = result.problem;
        if (!forAppend) result.history.seal();
        const state: BuildFeedState = { history: result.history, assigned: result.history.eventCount, writer: null };
        this.builds.set(buildId, state);
        return state;
      });
      this.opening.set(buildId, loading);
      loading.finally(() => this.opening.delete(buildId)).catch(() => {});
    }
    return { state: await loading, problem };
  }

  /** Keeps a finished history that nobody reads among the few idle ones, closing the oldest beyond them. */
  private closeIfIdle(buildId: string): void {
    if (!this.isIdle(buildId)) return;
    this.idle.delete(buildId);
    this.idle.add(buildId);
    for (const oldest of this.idle) {
      if (this.idle.size <= IDLE_HISTORIES_KEPT) break;
      this.idle.delete(oldest);
      if (this.isIdle(oldest)) this.closeHistory(oldest);
    }
  }

  private isIdle(buildId: string): boolean {
    const state = this.builds.get(buildId);
    if (!state || state.history.readers > 0 || !state.history.isComplete()) return false;
    if (state.history.failure) return false; // part of it lives only in memory: closing would lose it
    return state.assigned <= state.history.eventCount; // else events are still queued for it
  }

  /**
   * Forgets a build that retention deleted: its history is closed if open (its readers get no
   * more and reconnect to a 404), and the global history forgets its events (a global reader
   * that resumes before them gets a reset).
   */
  deleteBuild(buildId: string): void {
    this.closeHistory(buildId);
    this.global.forgetBuild(buildId);
  }

  private closeHistory(buildId: string): void {
    this.builds.get(buildId)?.history.close();
    this.builds.delete(buildId);
    this.idle.delete(buildId);
  }

  private resetFrame(id: string): string {
    return this.options.encodeFrame({ id, event: 'reset', data: RESET_DATA });
  }
}

function groupByBuild(batch: readonly PendingEvent[]): Map<string, PendingEvent[]> {
  const groups = new Map<string, PendingEvent[]>();
  for (const event of batch) {
    const group = groups.get(event.buildId);
    if (group) group.push(event);
    else groups.set(event.buildId, [event]);
  }
  return groups;
}

/** The frames back to back, as the one buffer written to every reader of a feed. */
function concatFrames(events: readonly PendingEvent[]): Buffer {
  if (events.length === 1) return Buffer.from(events[0]!.frame, 'utf8');
  return Buffer.from(events.map((e) => e.frame).join(''), 'utf8');
}

/** Each event's global number and end offset within concatFrames(events). */
function endOffsets(events: readonly PendingEvent[]): { number: number; end: number }[] {
  let offset = 0;
  return events.map((event) => {
    offset += event.size;
    return { number: event.number, end: offset };
  });
}
