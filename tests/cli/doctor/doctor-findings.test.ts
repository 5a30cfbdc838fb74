import { judgeApi, judgeHealth, judgeOrigin, unreachableFinding } from '../../../src/cli/doctor/access-findings.js';
import { doctorExitCode, failed, formatFinding, formatSummary, noted, passed, warned } from '../../../src/cli/doctor/finding.js';
import { httpVersionFinding } from '../../../src/cli/doctor/http-version.js';
import type { StreamObservation } from '../../../src/cli/doctor/observe-stream.js';
import { streamFindings } from '../../../src/cli/doctor/stream-findings.js';

const lines = (findings: readonly Parameters<typeof formatFinding>[0][]) => findings.map(formatFinding);
const errorBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });

/** A healthy stream: headers at 5 ms, `retry:` right after, heartbeats every 300 ms. */
function observation(overrides: Partial<StreamObservation> = {}): StreamObservation {
  return {
    status: 200,
    failure: null,
    headersAtMs: 5,
    contentType: 'text/event-stream; charset=utf-8',
    contentEncoding: null,
    error: null,
    firstBytes: 'retry: 3000\n\n',
    firstBytesAtMs: 6,
    pingAtMs: [250, 550, 850],
    closedAtMs: null,
    watchedMs: 850,
    ...overrides,
  };
}

describe('doctor findings', () => {
  it('marks each line with what it is', () =>
    expect(lines([passed('a'), warned('b'), failed('c'), noted('d')])).toEqual(['✓ a', '⚠ b', '✗ c', '· d']));

  it('exits 0 when nothing failed, warnings included, and 1 when something did', () => {
    expect(doctorExitCode([passed('a'), warned('b'), noted('c')])).toBe(0);
    expect(doctorExitCode([passed('a'), failed('b')])).toBe(1);
  });

  it('sums up', () => {
    expect(formatSummary([passed('a')])).toBe('All checks passed.');
    expect(formatSummary([passed('a'), warned('b')])).toBe('All checks passed, 1 warning.');
    expect(formatSummary([failed('a'), failed('b'), warned('c'), warned('d')])).toBe('2 problems found, 2 warnings.');
  });

  describe('reaching the server', () => {
    it('asks whether the server runs, or for the CA of a certificate Node does not trust', () => {
      expect(formatFinding(unreachableFinding('http://x/healthz', 'ECONNREFUSED'))).toBe(
        '✗ cannot reach http://x/healthz (ECONNREFUSED): is the server running, and is --server (BUILDLOG_SERVER) the address people use?',
      );
      expect(formatFinding(unreachableFinding('https://x/healthz', 'DEPTH_ZERO_SELF_SIGNED_CERT'))).toContain('NODE_EXTRA_CA_CERTS=<file.pem>');
    });

    it('tells a proxy that cannot reach the server from a server that answers', () => {
      expect(judgeHealth('https://x/healthz', { status: 200, text: '{"status":"ok"}' })).toEqual({ finding: passed('the server answers at https://x/healthz'), canGoOn: true });
      const gateway = judgeHealth('https://x/healthz', { status: 502, text: '<html>Bad Gateway</html>' });
      expect(gateway.canGoOn).toBe(false);
      expect(formatFinding(gateway.finding)).toBe("✗ https://x/healthz answered 502: the proxy cannot reach the server; is it running, and does proxy_pass name its HOST and PORT?");
    });
  });

  describe('the token and the host', () => {
    it('says whether a token is needed, or the one given is wrong', () => {
      expect(judgeApi({ status: 200, text: '{"builds":[]}' }, false).finding).toEqual(passed('the API answers without a token (the server has no AUTH_TOKEN)'));
      expect(judgeApi({ status: 200, text: '{"builds":[]}' }, true).finding).toEqual(passed('the token is accepted'));
      expect(judgeApi({ status: 401, text: errorBody('unauthorized', 'no') }, false)).toEqual({
        finding: failed('the server needs a token (401 unauthorized): give it with --token or BUILDLOG_TOKEN'),
        canGoOn: false,
      });
      expect(formatFinding(judgeApi({ status: 401, text: errorBody('unauthorized', 'no') }, true).finding)).toContain("the server refused the token (401 unauthorized): give the server's AUTH_TOKEN");
    });

    it("passes on the server's message about a host it refuses, which names the variables", () => {
      const message = 'Host builds.example.com is not allowed: set PUBLIC_URL or ALLOWED_HOSTS.';
      expect(judgeApi({ status: 403, text: errorBody('forbidden_host', message) }, false)).toEqual({
        finding: failed(`the server refuses the host this URL names: ${message} (403 forbidden_host)`),
        canGoOn: false,
      });
    });
  });

  describe("the page's POST", () => {
    it('passes when the server gets as far as the body (400)', () =>
      expect(judgeOrigin('https://b.example', { status: 400, text: errorBody('invalid_body', 'projectPath is missing') })).toEqual(
        passed("the page's POST passes the Host and Origin checks (Origin: https://b.example)"),
      ));

    it("fails on 403 with the server's message, which names the variables, and the value for this URL", () =>
      expect(
        formatFinding(judgeOrigin('https://b.example', { status: 403, text: errorBody('forbidden_origin', 'Origin "https://b.example" is not allowed; set PUBLIC_URL to allow it.') })),
      ).toBe('✗ the page\'s POST is refused (403 forbidden_origin): Origin "https://b.example" is not allowed; set PUBLIC_URL to allow it; for this URL: PUBLIC_URL=https://b.example'));
  });

  describe('the HTTP version', () => {
    it('passes HTTP/2 and notes HTTP/1.1 with how to get HTTP/2', () => {
      expect(httpVersionFinding(new URL('https://b.example'), 'h2')).toEqual(passed("HTTP/2 (ALPN h2): the page's streams share one connection"));
      expect(formatFinding(httpVersionFinding(new URL('https://b.example'), 'http/1.1')!)).toMatch(/^· http\/1\.1 over TLS, no HTTP\/2: .*http2 on/);
      expect(httpVersionFinding(new URL('http://127.0.0.1:3000'), null)?.level).toBe('info');
    });
  });

  describe('the stream', () => {
    it('passes a stream that comes at once, uncompressed, with heartbeats one by one', () =>
      expect(lines(streamFindings(observation()))).toEqual([
        '✓ the stream is not compressed',
        "✓ the stream's first bytes (retry:) arrived at once (6 ms)",
        '✓ heartbeats arrive one by one, every 300 ms',
        '✓ the heartbeat interval (300 ms) is under the usual proxy idle timeouts (60 s)',
      ]));

    it('names a buffering proxy that holds even the headers back', () =>
      expect(lines(streamFindings(observation({ status: null, failure: 'timeout', headersAtMs: null, firstBytes: null, firstBytesAtMs: null, pingAtMs: [], watchedMs: 35000 }))))
        .toEqual(['✗ GET /api/log/push: no answer, not even headers, within 35 s: a proxy buffers the stream; in nginx set proxy_buffering off in the location that proxies /api/log/push (and do not ignore X-Accel-Buffering)']));

    it('names heartbeats that arrive in clumps', () => {
      const found = lines(streamFindings(observation({ firstBytesAtMs: 2400, pingAtMs: [2400, 2400, 2401] })));
      expect(found).toContain("✗ the stream's first bytes (retry:) took 2.4 s after its headers: a proxy buffers the stream; in nginx set proxy_buffering off in the location that proxies /api/log/push (and do not ignore X-Accel-Buffering)");
      expect(found).toContain('✗ heartbeats arrive in clumps (3 at once after 2.4 s of silence): a proxy buffers the stream; in nginx set proxy_buffering off in the location that proxies /api/log/push (and do not ignore X-Accel-Buffering)');
    });

    it('names compression, which nginx applies despite no-transform', () =>
      expect(lines(streamFindings(observation({ contentEncoding: 'gzip' })))[0]).toMatch(/^✗ the stream is compressed \(Content-Encoding: gzip\): .*gzip_types/));

    it('warns about a heartbeat slower than the usual proxy idle timeouts', () =>
      expect(lines(streamFindings(observation({ pingAtMs: [1000, 91000], watchedMs: 91000 })))).toContain(
        '⚠ heartbeats come every 90 s: proxies close streams idle for 60 s (nginx proxy_read_timeout, AWS ALB) or 100 s (Cloudflare); set HEARTBEAT_MS under 60000 (the default is 15000)',
      ));

    it('says when no heartbeat came, and how to watch longer', () =>
      expect(lines(streamFindings(observation({ pingAtMs: [], watchedMs: 35000 })))).toContain(
        '✗ no heartbeat within 35 s: a proxy holds the stream back, or HEARTBEAT_MS is above that (keep it under 60 s, 15000 is the default); watch longer with --wait <ms>',
      ));

    it('names a proxy read timeout that cuts the stream', () =>
      expect(lines(streamFindings(observation({ pingAtMs: [], closedAtMs: 10000, watchedMs: 10000 })))).toContain(
        "✗ the stream was closed after 10 s: a proxy's read timeout is shorter than the heartbeat; in nginx raise proxy_read_timeout above HEARTBEAT_MS",
      ));

    it("passes on the server's refusal of the stream", () =>
      expect(lines(streamFindings(observation({ status: 503, error: { code: 'too_many_clients', message: 'The server is full.' } })))).toEqual([
        '✗ GET /api/log/push was refused: The server is full. (503 too_many_clients)',
      ]));
  });
});
