import { BenchCluster } from '../harness/bench-cluster.js';
import { go, waitForReady } from '../harness/bench-fixture.js';
import { startBuild } from '../harness/build-api.js';
import type { ServerProcess } from '../harness/server-process.js';
import { READY_TIMEOUT_MS, sleep, type ClusterContext } from './cell-context.js';
import { selfMeasuredMetrics, type RowResult } from './cell-metrics.js';
import type { LostWorkerSpec, Scenario } from './scenario-spec.js';

/** GET /api/builds/<id> is asked this often once the worker is killed: the time's resolution. */
const POLL_MS = 20;
/** Past WORKER_LOST_MS + this, the build is taken as never to be interrupted (the target allows 5 s). */
const GIVE_UP_AFTER_MS = 60000;

interface BuildView {
  readonly status: string;
  readonly worker: string | null;
}

/**
 * Row i: one API process and one worker, both with WORKER_LOST_MS = `workerLostMs`. A build
 * that prints `rate` lines/s is POSTed to the API process and runs on the worker; once it has
 * printed for `runningMs`, the worker is SIGKILLed (no shutdown: its heartbeat just stops).
 * Measured: from the kill to the first GET /api/builds/<id> on the API process that answers
 * `interrupted`. Checked (column exact): the record names the killed worker, and the build's
 * log ends with a `system` line that names it.
 */
export async function runLostWorker(context: ClusterContext, scenario: Scenario): Promise<RowResult[]> {
  const spec = scenario.spec as LostWorkerSpec;
  const processes = new BenchCluster(context.launch, context.redis, { WORKER_LOST_MS: String(spec.workerLostMs) });
  try {
    const api = await processes.start('api');
    const worker = await processes.start('worker');
    const workerName = processes.nameOf('worker', 1);
    // Enough lines to go on well past the kill: the build never ends by itself within the row.
    const lines = Math.round((spec.rate * (spec.runningMs + spec.workerLostMs + GIVE_UP_AFTER_MS)) / 1000);
    const { id, control } = await startBuild(api, { lines, rate: spec.rate, burstLines: spec.burstLines, width: context.lineWidth });
    await waitForReady(control, READY_TIMEOUT_MS);
    go(control);
    await sleep(spec.runningMs);
    const running = await readBuild(api, id);
    if (running.status !== 'running') throw new Error(`the build was ${running.status}, not running, before the kill`);

    const cpuBefore = api.cpuMs();
    const killedAt = performance.now();
    await worker.kill();
    const ended = await waitWhileRunning(api, id, spec.workerLostMs + GIVE_UP_AFTER_MS);
    const interruptedMs = performance.now() - killedAt;
    const cpuMs = api.cpuMs() - cpuBefore;
    if (ended.status !== 'interrupted') throw new Error(`the build ended ${ended.status}, not interrupted`);
    const isExact = ended.worker === workerName && (await namesLostWorker(api, id, workerName));
    return [
      {
        row: scenario.rows[0]!,
        error: null,
        metrics: {
          ...selfMeasuredMetrics({
            clients: 1,
            lines: 0,
            wallMs: interruptedMs,
            bytesPerEvent: null,
            cpuMs,
            rssStartBytes: 0,
            rssPeakBytes: 0,
            shortReaders: 0,
            isTimedOut: false,
            sequenceErrors: 0,
            firstEventMs: null,
            startupMs: null,
            keptBuilds: null,
            outputBytes: null,
            exactReaders: isExact ? 1 : 0,
          }),
          interruptedMs,
        },
      },
    ];
  } finally {
    await processes.stop();
  }
}

async function readBuild(server: ServerProcess, id: string): Promise<BuildView> {
  const response = await fetch(`${server.url}/api/builds/${id}`);
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET /api/builds/${id} answered ${response.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as BuildView;
}

/** Polls the build until it is no longer running; resolves with the first answer that says so. */
async function waitWhileRunning(server: ServerProcess, id: string, timeoutMs: number): Promise<BuildView> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const build = await readBuild(server, id);
    if (build.status !== 'running' && build.status !== 'queued') return build;
    if (performance.now() > deadline) throw new Error(`build ${id} still ${build.status} ${timeoutMs} ms after its worker was killed`);
    await sleep(POLL_MS);
  }
}

/** The contract: a lost worker's build ends with a `system` line naming the worker (nothing the dead worker had in hand comes after it). */
async function namesLostWorker(server: ServerProcess, id: string, workerName: string): Promise<boolean> {
  const response = await fetch(`${server.url}/api/builds/${id}/log`);
  const lastLine = (await response.text()).trimEnd().split('\n').at(-1) ?? '';
  return response.status === 200 && lastLine.includes('[system]') && lastLine.includes(workerName);
}
