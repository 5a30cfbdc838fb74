import { failed, passed, warned, type Finding } from './finding.js';
import { judgeHeartbeats } from './heartbeat-judge.js';
import type { StreamObservation } from './observe-stream.js';

/** The contract: headers at once, then `retry:` in the same tick; a second is generous. */
export const PROMPT_MS = 1000;
/** nginx's proxy_read_timeout and AWS ALB's idle timeout default to 60 s (Cloudflare: 100 s). */
export const PROXY_IDLE_TIMEOUT_MS = 60000;

const BUFFERING_ADVICE =
  'a proxy buffers the stream; in nginx set proxy_buffering off in the location that proxies /api/log/push (and do not ignore X-Accel-Buffering)';

/** Judges what the stream showed: status, compression, first bytes, heartbeats and their interval. */
export function streamFindings(seen: StreamObservation): Finding[] {
  if (seen.status === null) return [noAnswer(seen)];
  if (seen.status !== 200) {
    const reason = seen.error ? `${seen.error.message} (${seen.status} ${seen.error.code})` : `HTTP ${seen.status}`;
    return [failed(`GET /api/log/push was refused: ${reason}`)];
  }
  const findings: Finding[] = [];
  if (!seen.contentType?.startsWith('text/event-stream')) {
    findings.push(failed(`the stream's Content-Type is ${seen.contentType ?? 'missing'}, not text/event-stream: something between you and the server rewrites the answer`));
  }
  if (seen.headersAtMs! > PROMPT_MS) findings.push(failed(`the stream's headers took ${seconds(seen.headersAtMs!)}: ${BUFFERING_ADVICE}`));
  findings.push(compression(seen.contentEncoding));
  findings.push(firstBytes(seen));
  findings.push(...heartbeats(seen));
  return findings;
}

function noAnswer(seen: StreamObservation): Finding {
  if (seen.failure === 'timeout') return failed(`GET /api/log/push: no answer, not even headers, within ${seconds(seen.watchedMs)}: ${BUFFERING_ADVICE}`);
  return failed(`GET /api/log/push failed (${seen.failure ?? 'no answer'})`);
}

function compression(contentEncoding: string | null): Finding {
  if (contentEncoding === null || contentEncoding === 'identity') return passed('the stream is not compressed');
  return failed(
    `the stream is compressed (Content-Encoding: ${contentEncoding}): a compressing proxy holds events back; in nginx keep text/event-stream out of gzip_types (nginx compresses it despite Cache-Control: no-transform)`,
  );
}

function firstBytes(seen: StreamObservation): Finding {
  if (seen.firstBytesAtMs === null) {
    if (seen.closedAtMs !== null) return failed(`the stream was closed after ${seconds(seen.closedAtMs)} without a byte`);
    return failed(`the stream's first bytes did not arrive within ${seconds(seen.watchedMs)}: ${BUFFERING_ADVICE}`);
  }
  const what = seen.firstBytes?.startsWith('retry:') ? 'retry:' : JSON.stringify(seen.firstBytes);
  const delayMs = seen.firstBytesAtMs - seen.headersAtMs!;
  if (delayMs > PROMPT_MS) return failed(`the stream's first bytes (${what}) took ${seconds(delayMs)} after its headers: ${BUFFERING_ADVICE}`);
  return passed(`the stream's first bytes (${what}) arrived at once (${Math.round(seen.firstBytesAtMs)} ms)`);
}

function heartbeats(seen: StreamObservation): Finding[] {
  if (seen.firstBytesAtMs === null) return [];
  // From the headers on: a proxy that held the stream back lets `retry:` go with the pings.
  const verdict = judgeHeartbeats(seen.pingAtMs, seen.headersAtMs!);
  const closed =
    seen.closedAtMs === null
      ? []
      : [failed(`the stream was closed after ${seconds(seen.closedAtMs)}: a proxy's read timeout is shorter than the heartbeat; in nginx raise proxy_read_timeout above HEARTBEAT_MS`)];
  switch (verdict.kind) {
    case 'clumped':
      return [
        failed(`heartbeats arrive in clumps (${verdict.size} at once after ${seconds(verdict.silenceMs)} of silence): ${BUFFERING_ADVICE}`),
        ...closed,
      ];
    case 'none':
      if (closed.length > 0) return closed;
      return [
        failed(
          `no heartbeat within ${seconds(seen.watchedMs)}: a proxy holds the stream back, or HEARTBEAT_MS is above that (keep it under ${PROXY_IDLE_TIMEOUT_MS / 1000} s, 15000 is the default); watch longer with --wait <ms>`,
        ),
      ];
    case 'single':
      return [warned(`only one heartbeat within ${seconds(seen.watchedMs)}: too few to time them; watch longer with --wait <ms>`), ...closed];
    case 'steady':
      return [passed(`heartbeats arrive one by one, every ${seconds(verdict.intervalMs)}`), interval(verdict.intervalMs), ...closed];
  }
}

function interval(intervalMs: number): Finding {
  if (intervalMs < PROXY_IDLE_TIMEOUT_MS) return passed(`the heartbeat interval (${seconds(intervalMs)}) is under the usual proxy idle timeouts (60 s)`);
  return warned(
    `heartbeats come every ${seconds(intervalMs)}: proxies close streams idle for 60 s (nginx proxy_read_timeout, AWS ALB) or 100 s (Cloudflare); set HEARTBEAT_MS under 60000 (the default is 15000)`,
  );
}

/** `850 ms`, `1.2 s`, `35 s`. */
function seconds(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : s.toFixed(1)} s`;
}
