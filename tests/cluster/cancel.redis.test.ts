import { request, startBuild } from '../helpers/http.js';
import { isAlive, readGrandchildPid } from '../helpers/processes.js';
import type { SseReader } from '../helpers/sse-reader.js';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS } from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import type { ClusterProcess } from '../helpers/cluster/cluster-process.js';
import { logLines, ticksOf } from '../helpers/cluster/event-checks.js';
import { processesWorkingIn } from '../helpers/cluster/leftover-processes.js';

/** API.md, "Cancel and timeout reach the build wherever it runs". */
describe('a cluster: cancel and timeout', () => {
  afterAll(cleanUpClusterTests);

  it(
    "cancels from an api process a build that runs on a worker: it ends cancelled with its whole process tree gone",
    clusterTest(async ({ cluster, projects, stream }) => {
      const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
      const [a, b] = apis as [ClusterProcess, ClusterProcess];
      await cluster.waitForWorkers(a, ['worker-1']);
      // Its grandchild ignores SIGTERM: only the SIGKILL that follows ends it.
      projects.configure('slow', { seconds: 60, stubborn: true });

      const build = await startBuild(a.url, 'slow');
      const onB = stream(`${b.url}${build.streamUrl}`);
      const grandchild = await waitFor(() => readGrandchildPid(projects.project('slow')), 'the grandchild to start', 60000);
      await onB.waitFor((r) => ticksOf(r.events, build.id).includes(3), 'tick 3', 60000);
      expect(isAlive(grandchild)).toBe(true);

      const cancel = await request(`${a.url}/api/builds/${build.id}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(202);
      expect(cancel.json.build.id).toBe(build.id);
      await onB.waitFor((r) => r.named('end').length > 0, 'the end of the cancelled build', 60000);

      const ended = onB.named('end')[0]!.json.build;
      expect(ended).toMatchObject({ status: 'cancelled', worker: 'worker-1' });
      expect(ended.steps.every((step: { status: string }) => step.status === 'succeeded')).toBe(false);
      expect(isAlive(grandchild)).toBe(false);
      expect(processesWorkingIn(projects.project('slow'))).toEqual([]);
      expect(logLines(onB.events, build.id, 'system').at(-1)?.text).toMatch(/cancelled/i);
      expect((await request(`${b.url}/api/builds/${build.id}`)).json.status).toBe('cancelled');

      const again = await request(`${b.url}/api/builds/${build.id}/cancel`, { method: 'POST' });
      expect(again.status).toBe(409);
      expect(again.json.error.code).toBe('not_running');
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    "ends a build timed_out after the worker's BUILD_TIMEOUT_MS, its whole process tree gone",
    clusterTest(async ({ cluster, projects, stream }) => {
      const a = await cluster.startApi();
      // Only the worker has the short timeout: the process that runs the build enforces it.
      await cluster.startWorker({ name: 'worker-1', env: { BUILD_TIMEOUT_MS: '8000' } });
      await cluster.waitForWorkers(a, ['worker-1']);
      projects.configure('slow', { seconds: 60, stubborn: true });

      const build = await startBuild(a.url, 'slow');
      const onA: SseReader = stream(`${a.url}${build.streamUrl}`);
      const grandchild = await waitFor(() => readGrandchildPid(projects.project('slow')), 'the grandchild to start', 60000);
      await onA.waitFor((r) => r.named('end').length > 0, 'the end of the timed-out build', 90000);

      expect(onA.named('end')[0]!.json.build).toMatchObject({ status: 'timed_out', worker: 'worker-1' });
      expect(isAlive(grandchild)).toBe(false);
      expect(processesWorkingIn(projects.project('slow'))).toEqual([]);
      expect(logLines(onA.events, build.id, 'system').at(-1)?.text).toMatch(/timed.out/i);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
