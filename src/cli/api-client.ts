import { setTimeout as sleep } from 'node:timers/promises';
import type { Build } from '../builds/build-record.js';
import type { WorkerInfo } from '../builds/worker-info.js';
import { CliError, throwIfAborted } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { describeNetworkError, describeRetryableAnswer, errorForStatus, isRetryableStatus, retryAfterMs } from './http-failure.js';
import { RetryBudget } from './retry-budget.js';

/** Where the server is, how to authenticate, and how long to retry. */
export interface ApiClientOptions {
  /** The server's base URL, checked already (http or https). */
  readonly server: string;
  readonly token: string | undefined;
  /** How long an outage (refused connections, 503, 429) is retried before giving up with 69. */
  readonly retryForMs: number;
  /** Aborted when the user stops the CLI; its reason is an InterruptedError. */
  readonly signal: AbortSignal;
  /** One line for the user on stderr (retries, waits). */
  readonly onNotice: (text: string) => void;
}

/** How long one JSON request may take, answer included, before it counts as a failed attempt. */
const REQUEST_TIMEOUT_MS = 30000;

/** What a cancel request found. */
export interface CancelResult {
  readonly build: Build;
  /** False when the build was already over (409 not_running). */
  readonly wasRunning: boolean;
}

/**
 * The server's REST routes, with the token, bounded retries of outages and the contract's
 * errors turned into CliErrors. Every request here is safe to repeat: GETs, a build POST
 * that carries an Idempotency-Key, and cancel.
 */
export class ApiClient {
  constructor(private readonly options: ApiClientOptions) {}

  /** The absolute URL of a server path (the server's own URLs, such as streamUrl, start with `/`). */
  url(path: string): string {
    return this.options.server.replace(/\/+$/, '') + path;
  }

  /** The token, for the stream client (client/build-log-client.ts), which sends it the same way. */
  get token(): string | undefined {
    return this.options.token;
  }

  /** The Authorization header when there is a token. */
  get authHeaders(): Record<string, string> {
    return this.options.token === undefined ? {} : { Authorization: `Bearer ${this.options.token}` };
  }

  async startBuild(projectPath: string, idempotencyKey: string): Promise<{ build: Build; isNew: boolean }> {
    const response = await this.send('start the build', '/api/project/build', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
      body: JSON.stringify({ projectPath }),
    });
    const body = await this.readJson<{ build?: Build }>(response, 'start the build', [200, 202]);
    return { build: checkedBuild(body.build), isNew: response.status === 202 };
  }

  async getBuild(id: string, signal?: AbortSignal): Promise<Build> {
    const response = await this.send(`get build ${id}`, `/api/builds/${encodeURIComponent(id)}`, {}, signal);
    return checkedBuild(await this.readJson<Build>(response, `get build ${id}`, [200]));
  }

  async listBuilds(limit: number): Promise<Build[]> {
    const response = await this.send('list builds', `/api/builds?limit=${limit}`, {});
    const body = await this.readJson<{ builds?: Build[] }>(response, 'list builds', [200]);
    if (!Array.isArray(body.builds)) throw new CliError(ExitCode.protocol, 'list builds: the answer has no builds array');
    return body.builds.map(checkedBuild);
  }

  /** The processes that run builds (GET /api/workers). */
  async listWorkers(): Promise<WorkerInfo[]> {
    const response = await this.send('list workers', '/api/workers', {});
    const body = await this.readJson<{ workers?: unknown }>(response, 'list workers', [200]);
    if (!Array.isArray(body.workers)) throw new CliError(ExitCode.protocol, 'list workers: the answer has no workers array');
    return body.workers.map(checkedWorker);
  }

  /** Cancels a build; a build that is already over is reported, not thrown (a retried cancel lands there). */
  async cancelBuild(id: string, signal?: AbortSignal): Promise<CancelResult> {
    const what = `cancel build ${id}`;
    const response = await this.send(what, `/api/builds/${encodeURIComponent(id)}/cancel`, { method: 'POST' }, signal);
    if (response.status === 409) {
      const text = await response.text();
      const build = readBuildField(text);
      if (build) return { build: checkedBuild(build), wasRunning: false };
      throw errorForStatus(409, text, what);
    }
    const body = await this.readJson<{ build?: Build }>(response, what, [202]);
    return { build: checkedBuild(body.build), wasRunning: true };
  }

  /** The log so far as a byte stream: exact output with `raw`, else the timestamped text. */
  async fetchLog(id: string, raw: boolean): Promise<ReadableStream<Uint8Array>> {
    const what = `get the log of build ${id}`;
    const response = await this.send(what, `/api/builds/${encodeURIComponent(id)}/log${raw ? '?raw=1' : ''}`, {}, undefined, null);
    if (response.status !== 200) throw errorForStatus(response.status, await response.text(), what);
    if (!response.body) throw new CliError(ExitCode.protocol, `${what}: the answer has no body`);
    return response.body;
  }

  /**
   * One request, repeated through an outage: refused or dropped connections, timeouts, 503
   * and 429 (after Retry-After) are retried until --retry-for is spent, then exit 69.
   */
  private async send(
    what: string,
    path: string,
    init: { method?: string; headers?: Record<string, string>; body?: string },
    signal: AbortSignal = this.options.signal,
    timeoutMs: number | null = REQUEST_TIMEOUT_MS,
  ): Promise<Response> {
    const budget = new RetryBudget(this.options.retryForMs);
    for (;;) {
      throwIfAborted(signal);
      const attemptSignal = timeoutMs === null ? signal : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
      let problem: string;
      let hintMs: number | null = null;
      try {
        const response = await fetch(this.url(path), { ...init, headers: { ...this.authHeaders, ...init.headers }, signal: attemptSignal });
        if (!isRetryableStatus(response.status)) return response;
        hintMs = retryAfterMs(response);
        problem = describeRetryableAnswer(response.status, await response.text().catch(() => ''));
      } catch (error) {
        throwIfAborted(signal);
        problem = `cannot reach ${this.options.server} (${describeNetworkError(error)})`;
      }
      const delayMs = budget.nextDelayMs(hintMs);
      if (delayMs === null) throw new CliError(ExitCode.unreachable, `${what}: ${problem}; gave up after retrying for ${budget.retryForMs / 1000} s`);
      this.options.onNotice(`${problem}; retrying in ${(delayMs / 1000).toFixed(1)} s`);
      await sleep(delayMs, undefined, { signal }).catch(() => throwIfAborted(signal));
    }
  }

  private async readJson<T>(response: Response, what: string, okStatuses: readonly number[]): Promise<T> {
    const text = await response.text();
    if (!okStatuses.includes(response.status)) throw errorForStatus(response.status, text, what);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(ExitCode.protocol, `${what}: the answer is not JSON: ${text.slice(0, 200)}`);
    }
  }
}

/** The `build` of a 409 body (already over), if it has one. */
function readBuildField(text: string): unknown {
  try {
    return (JSON.parse(text) as { build?: unknown }).build;
  } catch {
    return undefined;
  }
}

/** Insists on the fields the CLI relies on, so a surprising answer is a clear error, not a crash later. */
function checkedBuild(build: unknown): Build {
  const candidate = build as Partial<Build> | undefined;
  if (typeof candidate?.id !== 'string' || typeof candidate.status !== 'string' || !Array.isArray(candidate.steps)) {
    throw new CliError(ExitCode.protocol, `the server's answer holds no build: ${JSON.stringify(build)?.slice(0, 200)}`);
  }
  return candidate as Build;
}

/** Insists on the fields the workers table shows, as checkedBuild does for builds. */
function checkedWorker(worker: unknown): WorkerInfo {
  const candidate = worker as Partial<WorkerInfo> | undefined;
  if (
    typeof candidate?.name !== 'string' ||
    typeof candidate.status !== 'string' ||
    !Array.isArray(candidate.builds) ||
    typeof candidate.maxConcurrentBuilds !== 'number' ||
    typeof candidate.lastSeenAt !== 'string'
  ) {
    throw new CliError(ExitCode.protocol, `the server's answer holds no worker: ${JSON.stringify(worker)?.slice(0, 200)}`);
  }
  return candidate as WorkerInfo;
}
