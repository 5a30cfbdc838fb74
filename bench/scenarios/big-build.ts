import { startBuild, waitForBuildEnd } from '../harness/build-api.js';
import { BIG_OUTPUT_PROJECT, go, readStats, waitForReady, type BigOutputStats } from '../harness/bench-fixture.js';
import { RssSampler } from '../harness/rss-sampler.js';
import { StreamReaders } from '../harness/stream-readers.js';
import type { OutputFilter, StreamReport } from '../load/reader-protocol.js';
import { READY_TIMEOUT_MS, SETTLE_MS, sleep, type CellContext } from './cell-context.js';
import { selfMeasuredMetrics, type RowResult } from './cell-metrics.js';
import type { BigBuildSpec, Scenario } from './scenario-spec.js';

/** The server's RSS is read this often, from the first byte of output to the last reader done. */
const RSS_SAMPLE_MS = 50;
/** Bounds each phase (the live build, then the replays). */
const PHASE_TIMEOUT_MS = 300000;
/** The fixture writes everything to the build step's stderr (yarn's own lines go to stdout). */
const OUTPUT: OutputFilter = { step: 'build', stream: 'stderr' };

/**
 * Scenario f: a build of `totalBytes` (big-output: lines around one line of `longLineBytes`
 * without a newline), as fast as the pipe takes it. `liveReaders` connect before it starts;
 * once it is over, `replayReaders` connect at once and replay it whole. Every reader hashes
 * the build's output as the contract defines it (text + eol) and is checked against what the
 * fixture hashed as it wrote. The server's RSS is sampled all along: peak minus the RSS
 * just before the first byte.
 */
export async function runBigBuild(context: CellContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as BigBuildSpec;
  const { server } = context;
  const readers = StreamReaders.start(context.readerEntry);
  try {
    const { id, control } = await startBuild(server, { totalBytes: spec.totalBytes, longLineBytes: spec.longLineBytes, lineBytes: spec.lineBytes }, BIG_OUTPUT_PROJECT);
    const read = (clients: number) => readers.read({ port: server.port, path: `/api/log/push?build=${id}`, clients, lastEventId: null, stopAtFirstLog: false, output: OUTPUT, timeoutMs: PHASE_TIMEOUT_MS });
    const live = read(spec.liveReaders);
    const liveFailed = await live.answered;
    if (liveFailed > 0) throw new Error(`${liveFailed} of ${spec.liveReaders} live readers could not connect`);
    await waitForReady(control, READY_TIMEOUT_MS);
    await sleep(SETTLE_MS);

    const rss = new RssSampler(server.pid, RSS_SAMPLE_MS);
    const cpuBefore = server.cpuMs();
    const started = performance.now();
    go(control);
    const liveDone = await live.done;
    await waitForBuildEnd(server, id, PHASE_TIMEOUT_MS);
    const replayDone = await read(spec.replayReaders).done;
    const wallMs = performance.now() - started;
    const peak = rss.stop();
    const cpuMs = server.cpuMs() - cpuBefore;
    const stats = await readStats<BigOutputStats>(control, 5000);
    if (stats.bytes !== spec.totalBytes) throw new Error(`the fixture wrote ${stats.bytes} bytes, not ${spec.totalBytes}`);

    const streams = [...liveDone.streams, ...replayDone.streams];
    const isExact = (s: StreamReport) => s.status === 200 && s.sawEnd && s.orderErrors === 0 && s.outputBytes === stats.bytes && s.outputSha256 === stats.sha256;
    const bytes = streams.reduce((sum, s) => sum + s.bytes, 0);
    const events = streams.reduce((sum, s) => sum + s.frames, 0);
    return [
      {
        row: scenario.rows[0]!,
        error: null,
        metrics: selfMeasuredMetrics({
          clients: streams.length,
          lines: Math.round(events / streams.length),
          wallMs,
          bytesPerEvent: events > 0 ? bytes / events : null,
          cpuMs,
          rssStartBytes: rss.startBytes,
          rssPeakBytes: peak,
          shortReaders: streams.filter((s) => !isExact(s)).length,
          isTimedOut: liveDone.isTimedOut || replayDone.isTimedOut,
          sequenceErrors: streams.reduce((sum, s) => sum + s.orderErrors, 0),
          firstEventMs: null,
          startupMs: null,
          keptBuilds: null,
          outputBytes: stats.bytes,
          exactReaders: streams.filter(isExact).length,
        }),
      },
    ];
  } finally {
    await readers.stop();
  }
}
