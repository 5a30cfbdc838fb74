import { request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS, LOST_WORKER_SLACK_MS, READER_ALLOWANCE_MS, SHUTDOWN_LIMIT_MS, STREAM_BATCH_MS } from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import type { ClusterProcess } from '../helpers/cluster/cluster-process.js';
import { finalStatusOn, logLines, ticksOf } from '../helpers/cluster/event-checks.js';
import { processesWorkingIn } from '../helpers/cluster/leftover-processes.js';

const WORKER_LOST_MS = 2000;
/** API.md: at most WORKER_LOST_MS + 5 s after a worker dies, each of its builds has ended `interrupted`. */
const LOST_BOUND_MS = WORKER_LOST_MS + LOST_WORKER_SLACK_MS;

/** API.md, "A lost worker never leaves a build running". */
describe('a cluster: a worker that dies or stops', () => {
  afterAll(cleanUpClusterTests);

  it(
    'ends the build of a SIGKILLed worker interrupted within WORKER_LOST_MS + 5 s, names the worker, ends its streams, frees its project',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis, workers } = await cluster.startMany({ apis: 2, workers: 1 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        const victim = workers[0]!;
        await cluster.waitForWorkers(a, ['worker-1']);
        projects.configure('slow', { seconds: 60 });
        const global = stream(`${a.url}/api/log/push`);
        await global.connected;

        const build = await startBuild(a.url, 'slow');
        const onB = stream(`${b.url}${build.streamUrl}`);
        await onB.waitFor((r) => ticksOf(r.events, build.id).includes(3), 'tick 3', 60000);
        const killedAt = Date.now();
        victim.kill9();
        await victim.exited;
        // Waits past the bound, so that a late end is reported as late, not as a timeout.
        await onB.waitFor((r) => r.named('end').length > 0, 'the end of the lost build', LOST_BOUND_MS + 15000);

        const end = onB.named('end')[0]!;
        // The contract's bound, plus the 25 ms an event may take to the socket and the reader's own share.
        expect(end.receivedAt - killedAt).toBeLessThanOrEqual(LOST_BOUND_MS + STREAM_BATCH_MS + READER_ALLOWANCE_MS);
        expect(onB.events.slice(-2).map((e) => [e.event, e.json.build.status])).toEqual([
          ['build', 'interrupted'],
          ['end', 'interrupted'],
        ]);
        expect(end.json.build.worker).toBe('worker-1');
        expect(logLines(onB.events, build.id, 'system').some((line) => line.text.includes('worker-1'))).toBe(true);
        await global.waitFor((r) => finalStatusOn(r.events, build.id) === 'interrupted', 'the interrupted build on the global stream', 5000);
        expect((await request(`${a.url}/api/builds/${build.id}`)).json.status).toBe('interrupted');

        await waitFor(async () => (await cluster.workers(b)).find((w) => w.name === 'worker-1')?.status === 'lost', 'worker-1 listed lost', 5000, 200);

        // Its project can be built again, by a worker that joins now.
        projects.configure('slow', { seconds: 1 });
        await cluster.startWorker({ name: 'worker-2' });
        const again = await startBuild(b.url, 'slow');
        expect(await waitForEnd(a.url, again.id, 90000)).toMatchObject({ status: 'succeeded', worker: 'worker-2' });
      },
      { env: { WORKER_LOST_MS: String(WORKER_LOST_MS), MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'on SIGTERM a worker ends its running build interrupted, takes no queued build, and exits 0 within 10 s',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis, workers } = await cluster.startMany({ apis: 1, workers: 1 });
        const a = apis[0]!;
        const stopping = workers[0]!;
        await cluster.waitForWorkers(a, ['worker-1']);
        projects.configure('slow', { seconds: 60 });

        const running = await startBuild(a.url, 'slow');
        await waitForBuild(a.url, running.id, (x) => x.status === 'running', 60000);
        const queued = await startBuild(a.url, 'failing'); // its one slot is taken
        const onA = stream(`${a.url}${running.streamUrl}`);
        await onA.waitFor((r) => ticksOf(r.events, running.id).includes(3), 'tick 3', 60000);

        const signalledAt = Date.now();
        stopping.terminate();
        const exit = await stopping.waitForExit(SHUTDOWN_LIMIT_MS + 5000);
        expect(exit.code).toBe(0);
        expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_LIMIT_MS);
        await onA.waitFor((r) => r.named('end').length > 0, 'the end of the running build', 10000);
        expect(onA.events.slice(-2).map((e) => [e.event, e.json.build.status])).toEqual([
          ['build', 'interrupted'],
          ['end', 'interrupted'],
        ]);
        expect(processesWorkingIn(projects.project('slow'))).toEqual([]);
        expect((await request(`${a.url}/api/builds/${queued.id}`)).json).toMatchObject({ status: 'queued', worker: null });
        await waitFor(async () => !(await cluster.workers(a)).some((w) => w.name === 'worker-1'), 'worker-1 gone from the list', 30000, 200);

        await cluster.startWorker({ name: 'worker-2' });
        expect(await waitForEnd(a.url, queued.id, 90000)).toMatchObject({ status: 'failed', worker: 'worker-2' });
      },
      { env: { WORKER_LOST_MS: String(WORKER_LOST_MS), MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
