import type { Build } from '../builds/build-record.js';
import type { Project } from '../builds/list-projects.js';
import type { WorkerInfo } from '../builds/worker-info.js';
import type { EventDataByName, EventName, LogEventData } from '../events/event-data.js';

/*
 * The typed client of the build-log server, for browsers and Node 20 alike: global fetch, a
 * small SSE parser over the response body, and nothing imported at run time (only types), so
 * that the compiled file is served as GET /client.js and runs in a browser as it is.
 */

export type { Build, BuildStatus, BuildStep, StepName, StepStatus } from '../builds/build-record.js';
export type { Project } from '../builds/list-projects.js';
export type { WorkerInfo } from '../builds/worker-info.js';
export type { BuildEventData, EndEventData, EventDataByName, EventName, LogEventData, ResetEventData } from '../events/event-data.js';

/** Where the server is and how to reach it. */
export interface BuildLogClientOptions {
  /** The server's base URL, e.g. `http://127.0.0.1:3000`. */
  readonly server: string | URL;
  /**
   * AUTH_TOKEN of the server, sent as `Authorization: Bearer`; a function is read again for
   * every request and connection (a token the user types in later, one that is refreshed).
   */
  readonly token?: string | (() => string | null | undefined) | undefined;
  /**
   * Called when the server answers 401: resolve true once the token (read again) is worth
   * another try (a dialog answered, a token refreshed), false to fail with the 401
   * BuildLogError. A follow keeps its place meanwhile and reports `unauthorized`. At most
   * MAX_UNAUTHORIZED_RETRIES tries in a row per request or follow, so a hook that says yes
   * without a new token cannot loop.
   */
  readonly onUnauthorized?: ((refusal: Unauthorized) => boolean | Promise<boolean>) | undefined;
  /** A fetch of your own (tests, a proxy agent); the global fetch otherwise. */
  readonly fetch?: typeof fetch;
}

/** What `onUnauthorized` is told about a 401. */
export interface Unauthorized {
  /** True when the refused request carried a token (a wrong one), false when it carried none. */
  readonly wasTokenSent: boolean;
  /** The refused request's signal: a hook that waits for a person can stop when it is aborted. */
  readonly signal: AbortSignal | undefined;
}

/** One event of the stream, typed by its name from the contract's one definition of payloads. */
export type BuildLogEvent = { [N in EventName]: { readonly name: N; readonly id: string | null; readonly data: EventDataByName[N] } }[EventName];

/** The events `follow` hands on: a `reset` is handled inside (see FollowStatus). */
export type FollowEvent = Exclude<BuildLogEvent, { readonly name: 'reset' }>;

/** What the connection of a `follow` is doing, for a status line. */
export type FollowStatus =
  | { readonly state: 'connecting'; readonly attempt: number }
  | { readonly state: 'open' }
  | {
      readonly state: 'retrying';
      readonly reason: string;
      readonly delayMs: number;
      readonly attempt: number;
      /** The status that said "later" (503 a full server, 502/504 a proxy without one), or null when the connection failed or dropped. */
      readonly httpStatus: number | null;
    }
  /** The server answered 401; the follow waits for `onUnauthorized` (see BuildLogClientOptions). */
  | { readonly state: 'unauthorized'; readonly wasTokenSent: boolean }
  /** The server could not resume from our id and replays; what was handed on already is skipped. */
  | { readonly state: 'reset' };

export interface FollowOptions {
  /** The build to follow to its `end`; without it, every build's events, until aborted. */
  readonly build?: string | undefined;
  /**
   * Resume after this id (one handed on by an earlier follow of the same stream). On a build's
   * stream the events up to it count as handed on, so a `reset` answered to it replays none.
   */
  readonly lastEventId?: string | null | undefined;
  /** Stops following; `follow` then rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Each event once, in order, awaited: a slow consumer slows the reading, never buffers it. */
  readonly onEvent: (event: FollowEvent) => void | Promise<void>;
  readonly onStatus?: ((status: FollowStatus) => void) | undefined;
  /** A connection that carries nothing, not even a heartbeat, for this long is dropped and resumed. */
  readonly idleTimeoutMs?: number | undefined;
  /**
   * How long one outage (no connection, 503, connections that carry nothing) is retried before
   * `follow` rejects with a BuildLogNetworkError; by default it retries until aborted.
   */
  readonly retryForMs?: number | undefined;
}

/** How a follow ended: with the build's `end` event, or the server's 204 (the build was over already). */
export interface FollowResult {
  readonly outcome: 'ended' | 'no_content';
  /** The last id handed on, to resume a later follow from. */
  readonly lastEventId: string | null;
  /** The build as it ended (with 204 too, read from GET /api/builds/:id). */
  readonly build: Build;
}

/** The server refused a request: its status and the contract's error code (`build_not_found`...). */
export class BuildLogError extends Error {
  override readonly name = 'BuildLogError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The build an `already_building` refusal names. */
    readonly build: Build | null = null,
  ) {
    super(message);
  }
}

/**
 * The server could not be reached at all. `code` is `cors_refused` when a browser reached the
 * server but the server did not allow this page's origin (CORS_ORIGINS), `network_error` otherwise.
 */
export class BuildLogNetworkError extends Error {
  override readonly name = 'BuildLogNetworkError';
  constructor(
    readonly code: 'cors_refused' | 'network_error',
    message: string,
    override readonly cause?: unknown,
  ) {
    super(message);
  }
}

export interface BuildLogClient {
  /** The server's base URL, without a trailing slash. */
  readonly server: string;
  /** Starts a build; `isNew` is false when the Idempotency-Key named an earlier one (200). */
  startBuild(projectPath: string, options?: { idempotencyKey?: string; signal?: AbortSignal }): Promise<{ build: Build; isNew: boolean }>;
  getBuild(id: string, options?: { signal?: AbortSignal }): Promise<Build>;
  /** Newest first. */
  listBuilds(options?: { limit?: number; signal?: AbortSignal }): Promise<Build[]>;
  /** The projects a build can be started for (the folders of PROJECTS_ROOT with a package.json). */
  listProjects(options?: { signal?: AbortSignal }): Promise<Project[]>;
  /** `wasRunning` is false when the build was already over (409 not_running). */
  cancelBuild(id: string, options?: { signal?: AbortSignal }): Promise<{ build: Build; wasRunning: boolean }>;
  /** The log as text: timestamped lines, or with `raw` the output exactly as the commands wrote it. */
  readLog(id: string, options?: { raw?: boolean; signal?: AbortSignal }): Promise<string>;
  /** The log as a Blob, byte for byte as the server keeps it: what a browser saves as a file. */
  readLogBlob(id: string, options?: { raw?: boolean; signal?: AbortSignal }): Promise<Blob>;
  workers(options?: { signal?: AbortSignal }): Promise<WorkerInfo[]>;
  /** Follows one build to its end, or every build until aborted, each event once across reconnects. */
  follow(options: FollowOptions): Promise<FollowResult>;
}

/** Until the server sends `retry:`, the wait before a reconnect (what EventSource assumes too). */
const DEFAULT_RETRY_MS = 3000;
/** The first wait of an outage; each further one doubles, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;
/** A server's hint (`retry:`, Retry-After) is honoured up to this. */
const MAX_HINT_MS = 60000;
/** Four of the server's default 15 s heartbeats. */
const DEFAULT_IDLE_TIMEOUT_MS = 60000;
/** A `log` event holds at most 64 KiB of text, which JSON may escape up to 6-fold. */
const MAX_EVENT_CHARS = 4 << 20;
/** Builds whose delivered position the global stream remembers; the oldest are forgotten first. */
const MAX_TRACKED_BUILDS = 10000;
/** 401s in a row that `onUnauthorized` may answer with another try. */
export const MAX_UNAUTHORIZED_RETRIES = 5;

/** Makes a client of one server. */
export function createBuildLogClient(options: BuildLogClientOptions): BuildLogClient {
  const server = String(options.server).replace(/\/+$/, '');
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const auth = authOf(options);

  async function send(path: string, init: RequestInit & { signal?: AbortSignal | undefined }): Promise<Response> {
    const url = server + path;
    for (let refusals = 0; ; refusals += 1) {
      const headers = auth.headers();
      let response: Response;
      try {
        response = await fetchFn(url, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
      } catch (error) {
        init.signal?.throwIfAborted();
        throw await networkError(url, error, fetchFn);
      }
      if (response.status !== 401) return response;
      const refusal = await errorOf(response);
      if (!auth.canRetry(refusals) || !(await auth.ask('Authorization' in headers, init.signal))) throw refusal;
    }
  }

  async function json<T>(path: string, init: RequestInit & { signal?: AbortSignal | undefined }, okStatuses: readonly number[] = [200]): Promise<{ status: number; body: T }> {
    const response = await send(path, { ...init, headers: { Accept: 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    if (!okStatuses.includes(response.status)) throw await errorOf(response);
    return { status: response.status, body: (await response.json()) as T };
  }

  async function readLogResponse(id: string, raw: boolean, signal: AbortSignal | undefined): Promise<Response> {
    const response = await send(`/api/builds/${encodeURIComponent(id)}/log${raw ? '?raw=1' : ''}`, { signal });
    if (response.status !== 200) throw await errorOf(response);
    return response;
  }

  const client: BuildLogClient = {
    server,
    async startBuild(projectPath, { idempotencyKey, signal } = {}) {
      const { status, body } = await json<{ build: Build }>(
        '/api/project/build',
        {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...(idempotencyKey === undefined ? {} : { 'Idempotency-Key': idempotencyKey }) },
          body: JSON.stringify({ projectPath }),
          signal,
        },
        [200, 202],
      );
      return { build: body.build, isNew: status === 202 };
    },
    async getBuild(id, { signal } = {}) {
      return (await json<Build>(`/api/builds/${encodeURIComponent(id)}`, { signal })).body;
    },
    async listBuilds({ limit, signal } = {}) {
      const query = limit === undefined ? '' : `?limit=${limit}`;
      return (await json<{ builds: Build[] }>(`/api/builds${query}`, { signal })).body.builds;
    },
    async listProjects({ signal } = {}) {
      return (await json<{ projects: Project[] }>('/api/projects', { signal })).body.projects;
    },
    async cancelBuild(id, { signal } = {}) {
      const response = await send(`/api/builds/${encodeURIComponent(id)}/cancel`, { method: 'POST', headers: { Accept: 'application/json' }, signal });
      if (response.status === 202) return { build: ((await response.json()) as { build: Build }).build, wasRunning: true };
      const error = await errorOf(response);
      if (error.code === 'not_running') return { build: error.build ?? (await client.getBuild(id, { signal })), wasRunning: false };
      throw error;
    },
    async readLog(id, { raw = false, signal } = {}) {
      return (await readLogResponse(id, raw, signal)).text();
    },
    async readLogBlob(id, { raw = false, signal } = {}) {
      return (await readLogResponse(id, raw, signal)).blob();
    },
    async workers({ signal } = {}) {
      return (await json<{ workers: WorkerInfo[] }>('/api/workers', { signal })).body.workers;
    },
    async follow(followOptions) {
      const outcome = await followStream(followOptions, { server, auth, fetchFn });
      const build = outcome.build ?? (await client.getBuild(followOptions.build!, { signal: followOptions.signal }));
      return { outcome: outcome.outcome, lastEventId: outcome.lastEventId, build };
    },
  };
  return client;
}

/** The token as headers, read anew for each request, and the one decision on a 401. */
interface Auth {
  headers(): Record<string, string>;
  /** Whether a 401 that followed `refusals` others in a row may be answered with another try. */
  canRetry(refusals: number): boolean;
  /** Asks `onUnauthorized`; rejects with the signal's reason when it is aborted first. */
  ask(wasTokenSent: boolean, signal: AbortSignal | undefined): Promise<boolean>;
}

function authOf({ token, onUnauthorized }: BuildLogClientOptions): Auth {
  return {
    headers(): Record<string, string> {
      const value = typeof token === 'function' ? token() : token;
      return value ? { Authorization: `Bearer ${value}` } : {};
    },
    canRetry: (refusals) => onUnauthorized !== undefined && refusals < MAX_UNAUTHORIZED_RETRIES,
    async ask(wasTokenSent, signal) {
      if (!onUnauthorized) return false;
      return untilAborted(Promise.resolve(onUnauthorized({ wasTokenSent, signal })), signal);
    },
  };
}

type ErrorBody = { error?: { code?: unknown; message?: unknown }; build?: Build };

/** The contract's error body as a BuildLogError; a body that is not one still gives the status. */
async function errorOf(response: Response): Promise<BuildLogError> {
  const text = await response.text().catch(() => '');
  let body: ErrorBody | null = null;
  try {
    body = JSON.parse(text) as ErrorBody;
  } catch {
    // not JSON: a proxy's page, reported by status below
  }
  const code = typeof body?.error?.code === 'string' ? body.error.code : `http_${response.status}`;
  const message = typeof body?.error?.message === 'string' ? body.error.message : `the server answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  return new BuildLogError(response.status, code, message, body?.build ?? null);
}

/**
 * A failed fetch. In a browser a CORS refusal looks like any network failure, so for a server
 * of another origin we ask again in `no-cors` mode: an (opaque) answer then means the server
 * is there and did not allow this page's origin.
 */
async function networkError(url: string, error: unknown, fetchFn: typeof fetch): Promise<BuildLogNetworkError> {
  const reason = describeNetworkError(error);
  const pageOrigin = (globalThis as { location?: { origin?: string } }).location?.origin;
  const serverOrigin = new URL(url).origin;
  if (pageOrigin && pageOrigin !== 'null' && pageOrigin !== serverOrigin) {
    const isReachable = await fetchFn(`${serverOrigin}/healthz`, { mode: 'no-cors' }).then(
      () => true,
      () => false,
    );
    if (isReachable) {
      return new BuildLogNetworkError(
        'cors_refused',
        `the server ${serverOrigin} does not allow requests from ${pageOrigin}: add ${pageOrigin} to its CORS_ORIGINS`,
        error,
      );
    }
  }
  return new BuildLogNetworkError('network_error', `cannot reach ${serverOrigin} (${reason})`, error);
}

/** A short reason for a failed fetch: the system error code when there is one (ECONNREFUSED). */
function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** Statuses that mean "later": 503 and 429 from the server, 502 and 504 from a proxy in front of one restarting. */
function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** Retry-After in milliseconds (seconds or an HTTP date), or null. */
function retryAfterMs(response: Response): number | null {
  const value = response.headers.get('Retry-After')?.trim();
  if (!value) return null;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const dateMs = Date.parse(value);
  return Number.isNaN(dateMs) ? null : Math.max(0, dateMs - Date.now());
}

// ---------------------------------------------------------------------------------------------
// Following a stream

interface StreamDeps {
  readonly server: string;
  readonly auth: Auth;
  readonly fetchFn: typeof fetch;
}

interface StreamOutcome {
  readonly outcome: 'ended' | 'no_content';
  readonly lastEventId: string | null;
  readonly build: Build | null;
}

/** Where a follow stands: the id to resume from, the server's `retry:`, and what was handed on. */
interface Cursor {
  lastEventId: string | null;
  retryMs: number;
  readonly guard: ReplayGuard;
}

/**
 * Follows a stream as EventSource would, but under our control: resumes with Last-Event-ID
 * after a dropped connection, a 502/503/504/429 (honouring Retry-After) or a server restart,
 * with backoff; stops at `end` and at 204; hands on each event once across resets; on a 401,
 * waits for `onUnauthorized` in its place.
 */
async function followStream(options: FollowOptions, deps: StreamDeps): Promise<StreamOutcome> {
  const signal = options.signal ?? new AbortController().signal;
  const cursor: Cursor = { lastEventId: options.lastEventId ?? null, retryMs: DEFAULT_RETRY_MS, guard: new ReplayGuard() };
  if (options.build !== undefined && cursor.lastEventId !== null) cursor.guard.resumeAfter(options.build, cursor.lastEventId);
  const url = deps.server + streamPath(options.build, cursor.lastEventId);
  const retryForMs = options.retryForMs ?? Infinity;
  let failures = 0;
  let refusals = 0;
  let outageStartMs: number | null = null;
  for (let attempt = 1; ; attempt += 1) {
    signal.throwIfAborted();
    options.onStatus?.({ state: 'connecting', attempt });
    const result = await connectOnce(url, options, deps, cursor, signal);
    if ('outcome' in result) return result;
    if ('refusal' in result) {
      if (!deps.auth.canRetry(refusals)) throw result.refusal;
      options.onStatus?.({ state: 'unauthorized', wasTokenSent: result.wasTokenSent });
      if (!(await deps.auth.ask(result.wasTokenSent, signal))) throw result.refusal;
      refusals += 1;
      continue;
    }
    refusals = 0;
    // A connection that carried something ends the outage; one that answered and dropped at once does not.
    if (result.wasAlive) {
      failures = 0;
      outageStartMs = null;
    }
    const nowMs = Date.now();
    outageStartMs ??= nowMs;
    const backoffMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** failures);
    const delayMs = Math.max(backoffMs, Math.min(result.hintMs, MAX_HINT_MS));
    failures += 1;
    if (nowMs - outageStartMs + delayMs > retryForMs) {
      throw new BuildLogNetworkError('network_error', `${result.problem}; gave up after retrying for ${retryForMs / 1000} s`);
    }
    options.onStatus?.({ state: 'retrying', reason: result.problem, delayMs, attempt, httpStatus: result.httpStatus });
    await sleep(delayMs, signal);
  }
}

/**
 * The path of a follow's stream. The id it starts from goes in the query as well (the
 * contract's `lastEventId=`, for clients that cannot set headers): a resumed follow is then
 * the same request an EventSource-based client makes and shows where it started in access
 * logs. Last-Event-ID, which the contract lets win, says on every connection where it is now.
 */
function streamPath(build: string | undefined, lastEventId: string | null): string {
  const query = [build === undefined ? '' : `build=${encodeURIComponent(build)}`, lastEventId === null ? '' : `lastEventId=${encodeURIComponent(lastEventId)}`].filter(Boolean);
  return `/api/log/push${query.length === 0 ? '' : `?${query.join('&')}`}`;
}

type Attempt =
  | StreamOutcome
  | { readonly problem: string; readonly hintMs: number; readonly wasAlive: boolean; readonly httpStatus: number | null }
  | { readonly refusal: BuildLogError; readonly wasTokenSent: boolean };

/** One connection: connect, then read events until `end` or until it drops or goes silent. */
async function connectOnce(url: string, options: FollowOptions, deps: StreamDeps, cursor: Cursor, signal: AbortSignal): Promise<Attempt> {
  const connection = new AbortController();
  const abort = () => connection.abort(signal.reason);
  signal.addEventListener('abort', abort);
  let idleTimer = setTimeout(() => connection.abort(), options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  const refreshIdle = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => connection.abort(), options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS);
  };
  try {
    let response: Response;
    const authHeaders = deps.auth.headers();
    try {
      response = await deps.fetchFn(url, {
        headers: {
          ...authHeaders,
          Accept: 'text/event-stream',
          ...(cursor.lastEventId === null ? {} : { 'Last-Event-ID': cursor.lastEventId }),
        },
        signal: connection.signal,
      });
    } catch (error) {
      signal.throwIfAborted();
      return { problem: `cannot reach the server (${describeNetworkError(error)})`, hintMs: cursor.retryMs, wasAlive: false, httpStatus: null };
    }
    if (response.status === 204) return { outcome: 'no_content', lastEventId: cursor.lastEventId, build: null };
    if (response.status === 401) return { refusal: await errorOf(response), wasTokenSent: 'Authorization' in authHeaders };
    if (isRetryableStatus(response.status)) {
      const error = await errorOf(response);
      const state = response.status === 502 || response.status === 504 ? 'unavailable' : 'busy';
      return {
        problem: `the server is ${state} (${response.status} ${error.code})`,
        hintMs: retryAfterMs(response) ?? cursor.retryMs,
        wasAlive: false,
        httpStatus: response.status,
      };
    }
    if (response.status !== 200 || !response.body) throw await errorOf(response);
    options.onStatus?.({ state: 'open' });
    return await readEvents(response.body, options, cursor, signal, refreshIdle);
  } finally {
    clearTimeout(idleTimer);
    signal.removeEventListener('abort', abort);
    connection.abort();
  }
}

/** Reads one connection's events; a connection that carried anything resets the backoff. */
async function readEvents(
  body: ReadableStream<Uint8Array>,
  options: FollowOptions,
  cursor: Cursor,
  signal: AbortSignal,
  onData: () => void,
): Promise<Attempt> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let wasAlive = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      onData();
      for (const item of parser.feed(decoder.decode(value, { stream: true }))) {
        if (item.kind === 'retry') {
          // The server says `retry:` first on every connection: that alone is no sign of life.
          cursor.retryMs = Math.min(item.ms, MAX_HINT_MS);
          continue;
        }
        wasAlive = true;
        if (item.kind !== 'event') continue;
        // The id goes back in Last-Event-ID, a reset's too: after it the server starts over.
        if (item.id !== null) cursor.lastEventId = item.id;
        const event = parseEvent(item);
        if (event === null) continue;
        if (event.name === 'reset') {
          cursor.guard.reset();
          options.onStatus?.({ state: 'reset' });
          continue;
        }
        if (!cursor.guard.isNew(event)) continue;
        await options.onEvent(event);
        if (event.name === 'end' && options.build !== undefined) return { outcome: 'ended', lastEventId: cursor.lastEventId, build: event.data.build };
      }
    }
  } catch (error) {
    signal.throwIfAborted();
    if (error instanceof BuildLogError) throw error;
    // Otherwise a reset socket, a server gone, or the idle watchdog: resumed by the caller.
  } finally {
    reader.cancel().catch(() => {});
  }
  return { problem: 'lost the connection to the server', hintMs: cursor.retryMs, wasAlive, httpStatus: null };
}

/** An event's JSON data, checked and typed by its name; events this client does not know are skipped. */
function parseEvent(item: SseItemEvent): BuildLogEvent | null {
  if (!['log', 'build', 'end', 'reset'].includes(item.event)) return null;
  let data: unknown;
  try {
    data = JSON.parse(item.data);
  } catch {
    throw malformed(item);
  }
  const isValid = item.event === 'log' ? isLogData(data) : item.event === 'reset' ? typeof data === 'object' && data !== null : isBuildData(data);
  if (!isValid) throw malformed(item);
  return { name: item.event, id: item.id, data } as BuildLogEvent;
}

const STREAMS = ['stdout', 'stderr', 'system'];

function isLogData(data: unknown): boolean {
  const line = data as Partial<LogEventData> | null;
  return typeof line?.text === 'string' && typeof line.eol === 'boolean' && typeof line.time === 'string' && STREAMS.includes(line.stream as string);
}

function isBuildData(data: unknown): boolean {
  const build = (data as { build?: Partial<Build> } | null)?.build;
  return typeof build?.id === 'string' && typeof build.status === 'string' && Array.isArray(build.steps);
}

function malformed(item: SseItemEvent): BuildLogError {
  return new BuildLogError(200, 'malformed_event', `the stream sent a malformed ${item.event} event: ${item.data.slice(0, 200)}`);
}

/**
 * Decides which events are new, so that none is handed on twice. Ids are `<boot>-<g>-<n>`
 * where `n` numbers the events of one build, also across restarts and on the global stream;
 * so per build, an event is new when its `n` passes the highest handed on. An id that is not
 * of that form falls back to counting events since the start or the last reset, which is
 * exact on a `?build=` stream (a reset there replays the whole build). Exported for clients
 * that read a stream themselves; `follow` uses it.
 */
export class ReplayGuard {
  private readonly handedByBuild = new Map<string, number>();
  private position = 0;
  private handedPosition = 0;

  /** A `reset` arrived: the server replays (the whole build, or the kept history) next. */
  reset(): void {
    this.position = 0;
  }

  /**
   * An earlier follow handed on `buildId`'s events up to `id`: a replay of them is skipped.
   * An id not of the server's form says nothing, and changes nothing.
   */
  resumeAfter(buildId: string, id: string): void {
    const number = buildEventNumber(id);
    if (number !== null) this.remember(buildId, number);
  }

  /** Counts one event (anything but `reset`); true when it was not handed on before. */
  isNew(event: FollowEvent): boolean {
    this.position += 1;
    const number = buildEventNumber(event.id);
    if (number === null) {
      if (this.position <= this.handedPosition) return false;
      this.handedPosition = this.position;
      return true;
    }
    this.handedPosition = Math.max(this.handedPosition, this.position);
    const buildId = event.name === 'log' ? event.data.build : event.data.build.id;
    const handed = this.handedByBuild.get(buildId) ?? 0;
    if (number <= handed) return false;
    this.remember(buildId, number);
    return true;
  }

  private remember(buildId: string, number: number): void {
    this.handedByBuild.delete(buildId); // re-inserted last: the Map's order is least recently seen first
    this.handedByBuild.set(buildId, number);
    if (this.handedByBuild.size > MAX_TRACKED_BUILDS) this.handedByBuild.delete(this.handedByBuild.keys().next().value!);
  }
}

/** `n` of an id `<boot>-<g>-<n>`, or null when the id is not of that form. */
function buildEventNumber(id: string | null): number | null {
  const match = id === null ? null : /^[0-9a-z]{1,16}-\d{1,15}-(\d{1,15})$/.exec(id);
  return match ? Number(match[1]) : null;
}

/** Waits, or rejects with the signal's reason when it is aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A promise's value, or a rejection with the signal's reason when it is aborted first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

// ---------------------------------------------------------------------------------------------
// Server-Sent Events, parsed as the HTML spec says (only what our server sends matters, but a
// proxy may re-chunk or use CRLF)

interface SseItemEvent {
  readonly kind: 'event';
  readonly id: string | null;
  readonly event: string;
  readonly data: string;
}
type SseItem = SseItemEvent | { readonly kind: 'retry'; readonly ms: number } | { readonly kind: 'comment' };

/** Turns text chunks into events, `retry:` values and comments; a line is bounded by MAX_EVENT_CHARS. */
class SseParser {
  private buffer = '';
  private isAfterCr = false;
  private id: string | null = null;
  private event = '';
  private data: string[] = [];
  private hasData = false;

  feed(chunk: string): SseItem[] {
    const items: SseItem[] = [];
    let text = chunk;
    // A CRLF split across chunks: the LF belongs to the CR that ended the last line.
    if (this.isAfterCr && text.startsWith('\n')) text = text.slice(1);
    this.isAfterCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i += 1) {
      const char = text.charCodeAt(i);
      if (char !== 10 && char !== 13) continue;
      this.line(this.buffer + text.slice(start, i), items);
      this.buffer = '';
      if (char === 13) {
        if (i + 1 === text.length) this.isAfterCr = true;
        else if (text.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
    }
    this.buffer += text.slice(start);
    if (this.buffer.length > MAX_EVENT_CHARS) throw new BuildLogError(200, 'event_too_large', 'the stream sent an event larger than 4 MiB');
    return items;
  }

  private line(line: string, items: SseItem[]): void {
    if (line === '') {
      if (this.hasData) items.push({ kind: 'event', id: this.id, event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      this.hasData = false;
      return;
    }
    if (line.startsWith(':')) {
      items.push({ kind: 'comment' });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') {
      this.data.push(value);
      this.hasData = true;
    } else if (field === 'event') this.event = value;
    else if (field === 'id' && !value.includes('\0')) this.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) items.push({ kind: 'retry', ms: Number(value) });
  }
}
