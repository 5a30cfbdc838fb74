import { writeFinishedBuilds, tempDataDir } from '../harness/data-dir.js';
import type { ServerProcess } from '../harness/server-process.js';
import { RssSampler } from '../harness/rss-sampler.js';
import { StreamReaders } from '../harness/stream-readers.js';
import type { StreamReport } from '../load/reader-protocol.js';
import { SETTLE_MS, sleep, type OwnServerContext } from './cell-context.js';
import { selfMeasuredMetrics, type CellMetrics, type RowResult } from './cell-metrics.js';
import { RESUME_IDS, RESUME_STATES, resumeRow, type ResumeSpec, type Scenario } from './scenario-spec.js';

/** The server's RSS is read this often while a resume is set up. */
const RSS_SAMPLE_MS = 50;
/** After the first event: time for what the resume set in motion to show in the RSS. */
const AFTER_FIRST_EVENT_MS = 200;
const RESUME_TIMEOUT_MS = 120000;
/** A busy machine (other work on both cores) can make even a small start-up slow. */
const START_TIMEOUT_MS = 60000;
/** Well-formed, and carried by no event: no build's event has this global number. */
const MADE_UP_BOOT = 'zzzzzzzz';
const MADE_UP_GLOBAL = 987654321987;

/** A generated DATA_DIR holding one finished build, and the id of its middle event. */
interface ResumeData {
  readonly dir: string;
  readonly buildId: string;
  readonly events: number;
  readonly middle: number;
  readonly middleId: string;
}

/** Generated once per bench run and size (the runs share them; the server only reads them). */
const dataDirs = new Map<string, Promise<ResumeData>>();

function resumeData(events: number, lineWidth: number): Promise<ResumeData> {
  const key = `${events}/${lineWidth}`;
  let data = dataDirs.get(key);
  if (!data) {
    data = (async () => {
      const { dir } = tempDataDir(`resume-${events}`);
      const middle = Math.floor(events / 2);
      const [build] = await writeFinishedBuilds(dir, [{ projectPath: '/srv/projects/app', createdAtMs: Date.now() - 60000, events, lineWidth }], [middle]);
      return { dir, buildId: build!.id, events: build!.events, middle, middleId: build!.idAt.get(middle)! };
    })();
    dataDirs.set(key, data);
  }
  return data;
}

/**
 * Scenario e: a finished build of `events` events (a generated DATA_DIR, in the server's own
 * format) and one of `referenceEvents`. For each, and for each kind of Last-Event-ID (the
 * middle event's, and a made-up one that must get a `reset` and then the whole build), a fresh
 * server is started on it ("cold"; the file is in the OS page cache, the server has nothing
 * of it), resumed once, then resumed again right after ("warm"). Measured: connect to the
 * first `log` event, and the server's RSS from before the connect to just after that event.
 */
export async function runResume(context: OwnServerContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as ResumeSpec;
  const results: RowResult[] = [];
  const readers = StreamReaders.start(context.readerEntry);
  try {
    for (const [size, events] of [['1M', spec.events], ['10k', spec.referenceEvents]] as const) {
      const data = await resumeData(events, context.lineWidth);
      for (const idKind of RESUME_IDS) {
        const server = await context.launch({ dataDir: data.dir, env: { KEEP_BUILDS: '0', KEEP_DAYS: '0' }, startTimeoutMs: START_TIMEOUT_MS });
        try {
          await sleep(SETTLE_MS);
          for (const state of RESUME_STATES) {
            const row = resumeRow(size, idKind, state);
            results.push({ row, error: null, metrics: await measureResume(server, readers, data, idKind) });
          }
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await readers.stop();
  }
  // Rows in the order the scenario lists them.
  return scenario.rows.map((row) => results.find((r) => r.row === row) ?? { row, metrics: null, error: 'not measured' });
}

async function measureResume(server: ServerProcess, readers: StreamReaders, data: ResumeData, idKind: (typeof RESUME_IDS)[number]): Promise<CellMetrics> {
  const lastEventId = idKind === 'mid' ? data.middleId : `${MADE_UP_BOOT}-${MADE_UP_GLOBAL}-${data.middle}`;
  const rss = new RssSampler(server.pid, RSS_SAMPLE_MS);
  const cpuBefore = server.cpuMs();
  const started = performance.now();
  const read = readers.read({ port: server.port, path: `/api/log/push?build=${data.buildId}`, clients: 1, lastEventId, stopAtFirstLog: true, output: null, timeoutMs: RESUME_TIMEOUT_MS });
  let done;
  try {
    done = await read.done;
  } catch (error) {
    rss.stop();
    throw error;
  }
  const { streams, isTimedOut } = done;
  const wallMs = performance.now() - started;
  await sleep(AFTER_FIRST_EVENT_MS);
  const peak = rss.stop();
  const cpuMs = server.cpuMs() - cpuBefore;
  const stream = streams[0]!;
  if (isTimedOut || stream.status !== 200 || stream.firstLogMs === null) {
    throw new Error(`resume with ${lastEventId}: status ${stream.status ?? 'none'}, ${stream.frames} frames, ${isTimedOut ? 'timed out' : 'no log event'}${stream.error ? ` (${stream.error})` : ''}`);
  }
  return selfMeasuredMetrics({
    clients: 1,
    lines: data.events,
    wallMs,
    bytesPerEvent: null,
    cpuMs,
    rssStartBytes: rss.startBytes,
    rssPeakBytes: peak,
    shortReaders: 0,
    isTimedOut: false,
    sequenceErrors: stream.orderErrors,
    firstEventMs: stream.firstLogMs,
    startupMs: null,
    keptBuilds: null,
    outputBytes: null,
    exactReaders: startsRight(stream, data, idKind) ? 1 : 0,
  });
}

/** The middle id resumes right after it; a made-up one gets a reset, then the build from its first event. */
function startsRight(stream: StreamReport, data: ResumeData, idKind: (typeof RESUME_IDS)[number]): boolean {
  const position = (id: string | undefined) => (id === undefined ? -1 : Number(id.slice(id.lastIndexOf('-') + 1)));
  const [first, second] = stream.firstFrames;
  if (idKind === 'mid') return first?.event === 'log' && position(first.id) === data.middle + 1;
  return first?.event === 'reset' && position(second?.id) === 1;
}
