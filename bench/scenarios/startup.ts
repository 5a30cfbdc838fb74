import { tempDataDir, writeFinishedBuilds, type FinishedBuildSpec } from '../harness/data-dir.js';
import { RssSampler } from '../harness/rss-sampler.js';
import { sleep, type OwnServerContext } from './cell-context.js';
import { selfMeasuredMetrics, type CellMetrics, type RowResult } from './cell-metrics.js';
import type { Scenario, StartupSpec } from './scenario-spec.js';

const RSS_SAMPLE_MS = 50;
/** After the `listening` line: what start-up left running (its garbage, its timers) shows in the RSS. */
const AFTER_LISTENING_MS = 500;
/** Bounds a start-up (10,000 builds took 5 s with the machine busy, over 15 s with it very busy). */
const START_TIMEOUT_MS = 120000;
/** Builds spread over this many projects, one every minute back from now (a week for 10,000). */
const PROJECTS = 50;
/** The contract's most builds per page of GET /api/builds. */
const MAX_LIST_LIMIT = 500;
/** No pruning: every build in DATA_DIR is kept (KEEP_BUILDS=0, KEEP_DAYS=0). */
const NO_PRUNING = { KEEP_BUILDS: '0', KEEP_DAYS: '0' };

/** Generated once per bench run and size: the server only reads finished builds at start-up. */
const keptDirs = new Map<string, Promise<string>>();

function keptBuildsDir(count: number, eventsPerBuild: number, lineWidth: number): Promise<string> {
  const key = `${count}/${eventsPerBuild}/${lineWidth}`;
  let dir = keptDirs.get(key);
  if (!dir) {
    dir = (async () => {
      const { dir: dataDir } = tempDataDir(`kept-${count}`);
      const nowMs = Date.now();
      const specs: FinishedBuildSpec[] = Array.from({ length: count }, (_, i) => ({
        projectPath: `/srv/projects/app-${i % PROJECTS}`,
        createdAtMs: nowMs - (count - i) * 60000,
        events: eventsPerBuild,
        lineWidth,
      }));
      await writeFinishedBuilds(dataDir, specs);
      return dataDir;
    })();
    keptDirs.set(key, dir);
  }
  return dir;
}

/**
 * Scenario g: the server started on a DATA_DIR of `keptBuilds` finished builds (generated in
 * its own format, small logs), and on an empty one, with no pruning. Measured: spawn to its
 * `listening` log line, and its RSS: at that line, and the highest from spawn until
 * AFTER_LISTENING_MS later. Each start also checks that the first page of GET /api/builds
 * lists what it should (all builds kept).
 */
export async function runStartup(context: OwnServerContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as StartupSpec;
  const keptDir = await keptBuildsDir(spec.keptBuilds, spec.eventsPerBuild, context.lineWidth);
  const empty = tempDataDir('empty');
  // Each row on its own: a start-up that fails leaves the other measured.
  const measure = async (row: string, dataDir: string, keptBuilds: number): Promise<RowResult> => {
    try {
      return { row, error: null, metrics: await measureStartup(context, dataDir, keptBuilds) };
    } catch (error) {
      return { row, metrics: null, error: error instanceof Error ? error.message : String(error) };
    }
  };
  try {
    return [await measure(scenario.rows[0]!, keptDir, spec.keptBuilds), await measure(scenario.rows[1]!, empty.dir, 0)];
  } finally {
    empty.remove();
  }
}

async function measureStartup(context: OwnServerContext, dataDir: string, keptBuilds: number): Promise<CellMetrics> {
  let rss: RssSampler | null = null;
  let rssAtListeningBytes = 0;
  let resolveListening!: (ms: number) => void;
  const listening = new Promise<number>((resolve) => (resolveListening = resolve));
  let server;
  try {
    server = await context.launch({
      dataDir,
      env: { ...NO_PRUNING, LOG_LEVEL: 'info' },
      startTimeoutMs: START_TIMEOUT_MS,
      onSpawn: (pid) => (rss = new RssSampler(pid, RSS_SAMPLE_MS)),
      onListening: (ms) => {
        rssAtListeningBytes = rss?.sample() ?? 0;
        resolveListening(ms);
      },
    });
  } catch (error) {
    (rss as RssSampler | null)?.stop();
    throw error;
  }
  try {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), START_TIMEOUT_MS)));
    const startupMs = await Promise.race([listening, timedOut]);
    clearTimeout(timer);
    if (startupMs === null) throw new Error(`no "listening on" log line within ${START_TIMEOUT_MS} ms`);
    await sleep(AFTER_LISTENING_MS);
    const peak = (rss as RssSampler | null)?.stop() ?? 0;
    const cpuMs = server.cpuMs();
    const response = await fetch(`${server.url}/api/builds?limit=${MAX_LIST_LIMIT}`);
    const listed = response.status === 200 ? ((await response.json()) as { builds: unknown[] }).builds.length : -1;
    return selfMeasuredMetrics({
      clients: 1,
      lines: 0,
      wallMs: null,
      bytesPerEvent: null,
      cpuMs,
      rssStartBytes: rssAtListeningBytes,
      rssPeakBytes: peak,
      shortReaders: 0,
      isTimedOut: false,
      sequenceErrors: 0,
      firstEventMs: null,
      startupMs,
      keptBuilds,
      outputBytes: null,
      exactReaders: listed === Math.min(MAX_LIST_LIMIT, keptBuilds) ? 1 : 0,
    });
  } finally {
    (rss as RssSampler | null)?.stop();
    await server.stop();
  }
}
