import { request, startBuild } from '../helpers/http.js';
import { sleep, waitFor } from '../helpers/wait.js';
import type { ClusterProcess } from '../helpers/cluster/cluster-process.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import { CLUSTER_TEST_TIMEOUT_MS, LOST_WORKER_SLACK_MS } from '../helpers/cluster/contract-limits.js';
import { replayBuild, ticksOf } from '../helpers/cluster/event-checks.js';
import { processesWorkingIn } from '../helpers/cluster/leftover-processes.js';

const WORKER_LOST_MS = 2000;

/**
 * API.md: "A worker that comes back ends whatever processes it left behind and never writes to
 * a build that has been declared lost", and a build is never run a second time.
 */
describe('a cluster: a worker that stalls and comes back', () => {
  afterAll(cleanUpClusterTests);

  it(
    'is declared lost while stopped, then writes nothing more to its build, ends its processes, and the build never runs again',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis, workers } = await cluster.startMany({ apis: 1, workers: 2 });
        const a = apis[0]!;
        await cluster.waitForWorkers(a, ['worker-1', 'worker-2']);
        projects.configure('slow', { seconds: 60 });
        const build = await startBuild(a.url, 'slow');
        const reader = stream(`${a.url}${build.streamUrl}`);
        await reader.waitFor((r) => ticksOf(r.events, build.id).includes(3), 'tick 3', 60000);
        const running = (await request(`${a.url}/api/builds/${build.id}`)).json;
        const stalled = workers.find((worker) => worker.name === running.worker) as ClusterProcess;

        stalled.signal('SIGSTOP');
        await reader.waitFor((r) => r.named('end').length > 0, 'the end of the build', WORKER_LOST_MS + LOST_WORKER_SLACK_MS + 15000);
        expect(reader.named('end')[0]!.json.build).toMatchObject({ status: 'interrupted', worker: stalled.name });
        const atEnd = await replayBuild(a.url, build.id);

        stalled.signal('SIGCONT');
        // Its build's processes kept printing into its pipes meanwhile: once it runs again it
        // tries to write them, is refused, and ends what the build left running.
        await waitFor(() => processesWorkingIn(projects.project('slow')).length === 0, 'the stalled build\'s processes to end', 20000, 200);
        await sleep(2000);
        const later = await replayBuild(a.url, build.id);
        expect(later.map((event) => event.id)).toEqual(atEnd.map((event) => event.id));
        const after = (await request(`${a.url}/api/builds/${build.id}`)).json;
        expect(after).toMatchObject({ status: 'interrupted', worker: stalled.name });
        expect((await request(`${a.url}/api/builds`)).json.builds.filter((b: { projectPath: string }) => b.projectPath === build.projectPath)).toHaveLength(1);
        // The worker that came back is a live worker again, and takes new builds.
        await waitFor(async () => (await cluster.workers(a)).find((w) => w.name === stalled.name)?.status === 'idle', `${stalled.name} idle again`, 15000, 200);
      },
      { env: { WORKER_LOST_MS: String(WORKER_LOST_MS), MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
