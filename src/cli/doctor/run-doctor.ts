import { throwIfAborted } from '../cli-error.js';
import { describeNetworkError } from '../http-failure.js';
import { judgeApi, judgeHealth, judgeOrigin, unreachableFinding, type Answer } from './access-findings.js';
import type { Finding } from './finding.js';
import { httpVersionFinding, negotiateProtocol } from './http-version.js';
import { observeStream } from './observe-stream.js';
import { streamFindings } from './stream-findings.js';

/** What to check, and how. */
export interface DoctorOptions {
  /** The server's base URL, checked already (http or https, no trailing slash). */
  readonly server: string;
  readonly token: string | undefined;
  /** How long the stream is watched for heartbeats, at most. */
  readonly waitMs: number;
  readonly signal: AbortSignal;
  /** Each finding as soon as it is known, so that a long watch shows progress. */
  readonly onFinding: (finding: Finding) => void;
  /** A line for the user about what happens next (the watch). */
  readonly onNotice: (text: string) => void;
}

/** How long each plain request may take. */
const REQUEST_TIMEOUT_MS = 10000;
/** Three heartbeats give two gaps: enough to tell one by one from clumps. */
const ENOUGH_PINGS = 3;

/**
 * Checks the server as the page and a bot reach it through whatever stands in between:
 * reachable, token, Host and Origin rules, HTTP version, and a stream that arrives unbuffered,
 * uncompressed and with heartbeats one by one. Returns every finding, in order.
 */
export async function runDoctor(options: DoctorOptions): Promise<Finding[]> {
  const findings: Finding[] = [];
  const report = (finding: Finding | null) => {
    if (!finding) return;
    findings.push(finding);
    options.onFinding(finding);
  };
  const auth: Record<string, string> = options.token === undefined ? {} : { Authorization: `Bearer ${options.token}` };
  const url = (path: string) => options.server + path;

  const health = await answer(url('/healthz'), {}, options.signal);
  if ('failure' in health) return done(report, unreachableFinding(url('/healthz'), health.failure), findings);
  const healthJudged = judgeHealth(url('/healthz'), health);
  report(healthJudged.finding);
  if (!healthJudged.canGoOn) return findings;

  const api = await answer(url('/api/builds?limit=1'), { headers: auth }, options.signal);
  if ('failure' in api) return done(report, unreachableFinding(url('/api/builds'), api.failure), findings);
  const apiJudged = judgeApi(api, options.token !== undefined);
  report(apiJudged.finding);
  if (!apiJudged.canGoOn) return findings;

  const origin = new URL(options.server).origin;
  const post = await answer(
    url('/api/project/build'),
    { method: 'POST', headers: { ...auth, Origin: origin, 'Content-Type': 'application/json' }, body: '{}' },
    options.signal,
  );
  report('failure' in post ? unreachableFinding(url('/api/project/build'), post.failure) : judgeOrigin(origin, post));

  const server = new URL(options.server);
  report(httpVersionFinding(server, server.protocol === 'https:' ? await negotiateProtocol(server, options.signal) : null));

  options.onNotice(`watching the stream for up to ${Math.round(options.waitMs / 1000)} s to time its heartbeats (--wait <ms> to change)`);
  const seen = await observeStream({ url: url('/api/log/push'), headers: auth, waitMs: options.waitMs, enoughPings: ENOUGH_PINGS, signal: options.signal });
  for (const finding of streamFindings(seen)) report(finding);
  return findings;
}

function done(report: (finding: Finding) => void, finding: Finding, findings: Finding[]): Finding[] {
  report(finding);
  return findings;
}

/** One request read whole, or the reason it failed. */
async function answer(url: string, init: RequestInit, signal: AbortSignal): Promise<Answer | { failure: string }> {
  throwIfAborted(signal);
  try {
    const response = await fetch(url, { ...init, signal: AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    throwIfAborted(signal);
    return { failure: describeNetworkError(error) };
  }
}
