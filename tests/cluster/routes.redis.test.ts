import { postJson, request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS, SHUTDOWN_LIMIT_MS } from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import { oneTo, ticksOf } from '../helpers/cluster/event-checks.js';

/** API.md, "Any route on any process": what is done on one api process is seen, and holds, on every other. */
describe('a cluster: any route on any process', () => {
  afterAll(cleanUpClusterTests);

  it(
    'serves a build POSTed to one api process from another: record, list, log, raw log and stream',
    clusterTest(async ({ cluster, projects, stream }) => {
      const { apis: [a, b] } = await cluster.startMany({ apis: 2, workers: 1 });
      await cluster.waitForWorkers(a!, ['worker-1']);
      projects.configure('slow', { seconds: 1 });

      const build = await startBuild(a!.url, 'slow');
      const record = await request(`${b!.url}/api/builds/${build.id}`);
      expect(record.status).toBe(200);
      expect(record.json.id).toBe(build.id);

      const onB = stream(`${b!.url}${build.streamUrl}`);
      await onB.waitFor((r) => r.named('end').length > 0, 'the end of the build on the other process', 90000);
      await onB.closed;
      expect(onB.status).toBe(200);
      expect(onB.events.slice(-2).map((e) => [e.event, e.json.build.status])).toEqual([
        ['build', 'succeeded'],
        ['end', 'succeeded'],
      ]);
      expect(ticksOf(onB.events, build.id)).toEqual(oneTo(10));

      const listed = await request(`${b!.url}/api/builds`);
      expect(listed.json.builds.map((x: { id: string }) => x.id)).toContain(build.id);
      const log = await request(`${b!.url}${build.logUrl}`);
      expect(log.status).toBe(200);
      expect(log.text).toMatch(/^\[[-\d :.]+\] tick 10$/m);
      const raw = await request(`${b!.url}${build.logUrl}?raw=1`);
      const output = onB
        .named('log')
        .filter((e) => e.json.stream !== 'system')
        .map((e) => e.json.text + (e.json.eol ? '\n' : ''))
        .join('');
      expect(raw.text).toBe(output);

      // Both processes hold the same record, and the end id stops a reconnect on either.
      expect((await request(`${a!.url}/api/builds/${build.id}`)).json).toEqual((await request(`${b!.url}/api/builds/${build.id}`)).json);
      const afterEnd = stream(`${a!.url}${build.streamUrl}`, { 'Last-Event-ID': onB.lastEventId! });
      await afterEnd.connected;
      expect(afterEnd.status).toBe(204);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'cancels on one api process a build POSTed to another',
    clusterTest(async ({ cluster, projects }) => {
      const { apis: [a, b] } = await cluster.startMany({ apis: 2, workers: 1 });
      await cluster.waitForWorkers(a!, ['worker-1']);
      projects.configure('slow', { seconds: 60 });

      const build = await startBuild(a!.url, 'slow');
      await waitForBuild(b!.url, build.id, (x) => x.status === 'running', 60000);
      const cancel = await request(`${b!.url}/api/builds/${build.id}/cancel`, { method: 'POST' });
      expect(cancel.status).toBe(202);
      expect(cancel.json.build.id).toBe(build.id);
      expect((await waitForEnd(a!.url, build.id, 60000)).status).toBe('cancelled');
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'refuses with 409 already_building on one process a project that builds through another',
    clusterTest(async ({ cluster, projects }) => {
      const { apis: [a, b] } = await cluster.startMany({ apis: 2, workers: 1 });
      await cluster.waitForWorkers(a!, ['worker-1']);
      projects.configure('slow', { seconds: 60 });

      const first = await startBuild(a!.url, 'slow');
      const conflict = await postJson(`${b!.url}/api/project/build`, { projectPath: projects.project('slow') });
      expect(conflict.status).toBe(409);
      expect(conflict.json.error.code).toBe('already_building');
      expect(conflict.json.build.id).toBe(first.id);

      await waitForBuild(a!.url, first.id, (x) => x.status === 'running', 60000);
      const whileRunning = await postJson(`${b!.url}/api/project/build`, { projectPath: 'slow' });
      expect(whileRunning.status).toBe(409);
      expect(whileRunning.json.build.id).toBe(first.id);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'counts MAX_QUEUED_BUILDS for the whole cluster: 429 queue_full on every process once that many wait',
    clusterTest(
      async ({ cluster, projects }) => {
        const { apis: [a, b] } = await cluster.startMany({ apis: 2, workers: 1 });
        await cluster.waitForWorkers(a!, ['worker-1']);
        for (const name of ['slow-2', 'slow-3', 'slow-4']) projects.copy('slow', name);
        for (const name of ['slow', 'slow-2', 'slow-3', 'slow-4']) projects.configure(name, { seconds: 60 });

        const running = await startBuild(a!.url, 'slow');
        await waitForBuild(b!.url, running.id, (x) => x.status === 'running', 60000);
        // One waits on each process: two wait in the cluster, which is the limit.
        const queuedOnA = await postJson(`${a!.url}/api/project/build`, { projectPath: 'slow-2' });
        const queuedOnB = await postJson(`${b!.url}/api/project/build`, { projectPath: 'slow-3' });
        expect([queuedOnA.status, queuedOnB.status]).toEqual([202, 202]);

        for (const member of [a!, b!]) {
          const refused = await postJson(`${member.url}/api/project/build`, { projectPath: 'slow-4' });
          expect(refused.status).toBe(429);
          expect(refused.json.error.code).toBe('queue_full');
        }
        const listed = (await request(`${a!.url}/api/builds`)).json.builds as Array<{ projectPath: string; status: string }>;
        expect(listed.filter((x) => x.projectPath === projects.project('slow-4'))).toEqual([]);
        expect(listed.filter((x) => x.status === 'queued')).toHaveLength(2);
      },
      { env: { MAX_QUEUED_BUILDS: '2', MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'answers a repeated Idempotency-Key on another process with 200 and the same build',
    clusterTest(async ({ cluster }) => {
      const { apis: [a, b] } = await cluster.startMany({ apis: 2, workers: 1 });
      await cluster.waitForWorkers(a!, ['worker-1']);
      const headers = { 'Idempotency-Key': 'deploy-cluster-42' };

      const first = await postJson(`${a!.url}/api/project/build`, { projectPath: 'failing' }, headers);
      const again = await postJson(`${b!.url}/api/project/build`, { projectPath: 'failing' }, headers);
      expect([first.status, again.status]).toEqual([202, 200]);
      expect(again.json.build.id).toBe(first.json.build.id);
      expect(again.headers.get('location')).toBe(`/api/builds/${first.json.build.id}`);

      await waitForEnd(b!.url, first.json.build.id, 60000);
      const later = await postJson(`${a!.url}/api/project/build`, { projectPath: 'failing' }, headers);
      expect(later.status).toBe(200);
      expect(later.json.build).toMatchObject({ id: first.json.build.id, status: 'failed' });
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'names in Build.worker the WORKER_NAME of the worker that runs it, and null while it is queued',
    clusterTest(
      async ({ cluster, projects }) => {
        const { apis: [a, b] } = await cluster.startMany({ apis: 2, workers: 1 });
        await cluster.waitForWorkers(a!, ['worker-1']);
        projects.configure('slow', { seconds: 60 });

        const first = await startBuild(a!.url, 'slow');
        const running = await waitForBuild(b!.url, first.id, (x) => x.status === 'running', 60000);
        expect(running.worker).toBe('worker-1');

        const waiting = await startBuild(b!.url, 'failing'); // the only slot is taken
        const queued = await request(`${a!.url}/api/builds/${waiting.id}`);
        expect(queued.json).toMatchObject({ status: 'queued', worker: null });

        await request(`${a!.url}/api/builds/${first.id}/cancel`, { method: 'POST' });
        const ended = await waitForEnd(a!.url, waiting.id, 60000);
        expect(ended).toMatchObject({ status: 'failed', worker: 'worker-1' });
        expect((await request(`${b!.url}/api/builds/${first.id}`)).json).toMatchObject({ status: 'cancelled', worker: 'worker-1' });
      },
      { env: { MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'lists the workers on every api process, idle or busy with their builds, and drops one stopped with SIGTERM',
    clusterTest(
      async ({ cluster, projects }) => {
        const { apis: [a, b], workers } = await cluster.startMany({ apis: 2, workers: 2 });
        const listed = await cluster.waitForWorkers(a!, ['worker-1', 'worker-2']);
        expect(listed.map((w) => w.name).sort()).toEqual(['worker-1', 'worker-2']);
        for (const worker of listed) {
          expect(worker).toMatchObject({ status: 'idle', builds: [], maxConcurrentBuilds: 1 });
          expect(new Date(worker.startedAt).toISOString()).toBe(worker.startedAt);
          expect(new Date(worker.lastSeenAt).toISOString()).toBe(worker.lastSeenAt);
        }
        projects.configure('slow', { seconds: 60 });

        const build = await startBuild(a!.url, 'slow');
        const running = await waitForBuild(a!.url, build.id, (x) => x.status === 'running' && x.worker !== null, 60000);
        const busyName = running.worker as string;
        const idleName = busyName === 'worker-1' ? 'worker-2' : 'worker-1';
        const seenBusy = await waitFor(
          async () => {
            const now = await cluster.workers(b!);
            const busy = now.find((w) => w.name === busyName);
            return busy?.status === 'busy' && busy.builds.includes(build.id) ? now : null;
          },
          `${busyName} listed busy with ${build.id} on ${b!.name}`,
          15000,
          200,
        );
        expect(seenBusy.find((w) => w.name === busyName)!.builds).toEqual([build.id]);
        expect(seenBusy.find((w) => w.name === idleName)).toMatchObject({ status: 'idle', builds: [] });

        await request(`${b!.url}/api/builds/${build.id}/cancel`, { method: 'POST' });
        await waitForEnd(a!.url, build.id, 60000);
        await waitFor(
          async () => (await cluster.workers(a!)).find((w) => w.name === busyName)?.status === 'idle',
          `${busyName} idle again after its build ended`,
          15000,
          200,
        );

        const stopped = workers.find((w) => w.name === idleName)!;
        const signalledAt = Date.now();
        stopped.terminate();
        const exit = await stopped.waitForExit(SHUTDOWN_LIMIT_MS + 5000);
        expect(exit.code).toBe(0);
        expect(exit.at - signalledAt).toBeLessThan(SHUTDOWN_LIMIT_MS);
        for (const member of [a!, b!]) {
          await waitFor(async () => !(await cluster.workers(member)).some((w) => w.name === idleName), `${idleName} gone from the list on ${member.name}`, 30000, 200);
        }
        expect((await cluster.workers(a!)).map((w) => w.name)).toEqual([busyName]);
      },
      { env: { MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
