/**
 * The page's pure modules (plain ES modules in public/js, no DOM at import time), loaded in
 * Node for the unit tests of `npm test`, with the types of what the tests use. They are
 * imported by a computed specifier because they are JavaScript without declarations; jest
 * runs them as they are (no transform), and maps the page's `/vendor/ansi_up.js` and
 * `/client.js` to what the server serves there (the client from its source; jest.config.ts).
 */
import type { WorkerInfo } from '../../src/builds/worker-info.js';
import type { BuildLogClient } from '../../src/client/build-log-client.js';
import type { LogEventData } from '../../src/events/event-data.js';

export interface TerminalLineApi {
  readonly text: string;
  readonly ansi: string;
  readonly cursor: number;
}

export interface TerminalLineModule {
  TerminalLine: new () => TerminalLineApi;
  TerminalWriter: new () => { write(line: TerminalLineApi, text: string): void; endLine(): void };
  applySgr(state: readonly string[], params: string): readonly string[];
  PLAIN: readonly string[];
}

/** What the page's BuildLog is given: the data of a `log` event, the server's own type. */
export type { LogEventData } from '../../src/events/event-data.js';

export interface LogLineApi {
  readonly index: number;
  readonly number: number;
  readonly step: string | null;
  readonly stream: string;
  readonly time: string;
  readonly text: string;
  readonly ansi: string;
  readonly version: number;
}

export interface BuildLogApi {
  readonly lines: LogLineApi[];
  readonly sections: { step: string | null; lines: LogLineApi[] }[];
  append(event: LogEventData): void;
  clear(): void;
  takeChanges(): { wasCleared: boolean; lineIndexes: number[] };
}

export interface BuildLogModule {
  BuildLog: new () => BuildLogApi;
}

export interface LogSearchApi {
  readonly count: number;
  readonly position: number;
  readonly current: { line: number; k: number } | null;
  setQuery(query: string, lines: readonly { text: string }[]): void;
  update(lines: readonly { text: string }[], lineIndexes: number[]): void;
  clearLines(): void;
  matchesIn(lineIndex: number, lines: readonly { text: string }[]): number[];
  next(): { line: number; k: number } | null;
  previous(): { line: number; k: number } | null;
}

export interface LogSearchModule {
  LogSearch: new () => LogSearchApi;
  findAll(text: string, needle: string): number[];
}

export interface FirstErrorModule {
  findFirstError(lines: readonly { stream: string; text: string }[]): number;
}

export interface PermalinkModule {
  parseHash(hash: string): { build: string | null; line: number | null };
  formatHash(build: string | null, line?: number | null): string;
}

export interface FormatModule {
  formatDuration(ms: number | null): string;
  elapsedMs(startedAt: string | null, finishedAt: string | null, nowMs?: number): number | null;
  clockTime(time: string): string;
  projectName(projectPath: string): string;
  shortDateTime(iso: string, now?: Date): string;
  statusLabel(status: string): string;
  isFinished(status: string): boolean;
}

/** A worker as GET /api/workers lists it: the server's own type. */
export type { WorkerInfo } from '../../src/builds/worker-info.js';

export interface WorkerRowApi {
  readonly name: string;
  readonly status: string;
  readonly statusLabel: string;
  readonly statusClass: string;
  readonly builds: readonly { id: string; href: string }[];
  readonly slots: string;
  readonly lastSeen: string;
  readonly lastSeenAt: string;
}

export interface WorkerRowModule {
  WORKER_STATUSES: readonly string[];
  workerStatusLabel(status: string): string;
  formatAgo(ms: number | null): string;
  workerCaption(build: { worker?: string | null } | null): string;
  workerRow(worker: WorkerInfo, nowMs: number): WorkerRowApi;
  workerRows(workers: readonly WorkerInfo[], nowMs: number): WorkerRowApi[];
}

/** The timer functions a Poller is given (globalThis in the page). */
export interface PollerTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface PollerApi {
  readonly isRunning: boolean;
  start(): void;
  stop(): void;
}

export interface PollerModule {
  Poller: new (options: { task: () => Promise<void>; intervalMs: number; timers: PollerTimers }) => PollerApi;
}

export interface LineHtmlModule {
  lineToHtml(ansi: string): string;
}

export interface FrameModule {
  onNextFrame(task: () => void): void;
}

/** A stream of the page: the client's follow in the connection line's words (public/js/feed-stream.js). */
export interface FeedStreamApi {
  readonly state: string | null;
  readonly lastEventId: string | null;
  start(): void;
  close(finalState?: string): void;
}

export interface FeedStreamModule {
  FeedStream: new (options: {
    client: BuildLogClient;
    build?: string;
    lastEventId?: string | null;
    tokens: { next(): Promise<string> };
    onEvent: (name: string, id: string | null, data: unknown) => void;
    onState: (state: string, detail: { retryAt?: number }) => void;
  }) => FeedStreamApi;
}

/** The part of Web Storage that TokenStore uses. */
export interface TokenStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export interface TokenStoreApi {
  /** Its channel to the other tabs, when the platform has BroadcastChannel. */
  readonly channel: { close(): void } | null;
  get(): string | null;
  set(token: string): void;
  next(): Promise<string>;
  fromOtherTabs(): Promise<string | null>;
}

export interface TokenStoreModule {
  TokenStore: new (storage: TokenStorage) => TokenStoreApi;
}

/** Imports public/js/<name>.js. */
export async function loadPageModule<T>(name: string): Promise<T> {
  const specifier = `../../public/js/${name}.js`;
  return (await import(specifier)) as T;
}
