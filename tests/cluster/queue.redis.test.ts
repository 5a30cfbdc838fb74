import fs from 'node:fs';
import { postJson, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import type { SseEvent } from '../helpers/sse-reader.js';
import { CLUSTER_TEST_TIMEOUT_MS } from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import type { ClusterProcess } from '../helpers/cluster/cluster-process.js';
import { finalStatusOn, TERMINAL_STATUSES } from '../helpers/cluster/event-checks.js';

interface Build {
  id: string;
  projectPath: string;
  status: string;
  worker: string | null;
}

/** The builds in the order a global stream first shows each of them `running`. */
function startOrder(events: readonly SseEvent[]): string[] {
  const order: string[] = [];
  for (const event of events) {
    const build = event.event === 'build' ? (event.json.build as Build) : null;
    if (build?.status === 'running' && !order.includes(build.id)) order.push(build.id);
  }
  return order;
}

/**
 * Replays a global stream's `build` events and returns the most builds that ran at once, in
 * all, per worker and per project: the stream has one order, so this is what happened.
 */
function peakConcurrency(events: readonly SseEvent[]): { total: number; perWorker: Map<string, number>; perProject: Map<string, number> } {
  const running = new Map<string, Build>();
  const perWorker = new Map<string, number>();
  const perProject = new Map<string, number>();
  let total = 0;
  const count = (key: (build: Build) => string | null, value: string) => [...running.values()].filter((b) => key(b) === value).length;
  for (const event of events) {
    if (event.event !== 'build') continue;
    const build = event.json.build as Build;
    if (build.status === 'running') running.set(build.id, build);
    else if (TERMINAL_STATUSES.includes(build.status)) running.delete(build.id);
    total = Math.max(total, running.size);
    if (build.worker !== null) perWorker.set(build.worker, Math.max(perWorker.get(build.worker) ?? 0, count((b) => b.worker, build.worker)));
    perProject.set(build.projectPath, Math.max(perProject.get(build.projectPath) ?? 0, count((b) => b.projectPath, build.projectPath)));
  }
  return { total, perWorker, perProject };
}

/** API.md, "The queue is first in, first out" and MAX_CONCURRENT_BUILDS per process. */
describe('a cluster: the queue', () => {
  afterAll(cleanUpClusterTests);

  it(
    'starts queued builds of different projects in the order they were POSTed, to any api process',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        await cluster.waitForWorkers(a, ['worker-1']);
        projects.configure('slow', { seconds: 2 });
        const names = ['q1', 'q2', 'q3', 'q4', 'q5'];
        for (const name of names) {
          projects.copy('slow', name);
          projects.configure(name, { seconds: 0.3 });
        }
        const global = stream(`${a.url}/api/log/push`);
        await global.connected;

        const blocker = await startBuild(a.url, 'slow');
        await waitForBuild(b.url, blocker.id, (x) => x.status === 'running', 60000);
        const posted: string[] = [];
        for (const [i, name] of names.entries()) posted.push((await startBuild([a, b][i % 2]!.url, name)).id);
        await global.waitFor((r) => posted.every((id) => finalStatusOn(r.events, id) !== undefined), 'every queued build to end', 150000);

        expect(startOrder(global.events)).toEqual([blocker.id, ...posted]);
        for (const id of posted) expect(finalStatusOn(global.events, id)).toBe('succeeded');
      },
      { env: { MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'runs MAX_CONCURRENT_BUILDS per worker: two workers of one slot run two builds at once, never two on one worker',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis } = await cluster.startMany({ apis: 1, workers: 2 });
        const a = apis[0]!;
        await cluster.waitForWorkers(a, ['worker-1', 'worker-2']);
        const names = ['c1', 'c2', 'c3', 'c4'];
        for (const name of names) {
          projects.copy('slow', name);
          projects.configure(name, { seconds: 2 });
        }
        const global = stream(`${a.url}/api/log/push`);
        await global.connected;

        const ids: string[] = [];
        for (const name of names) ids.push((await startBuild(a.url, name)).id);
        await global.waitFor((r) => ids.every((id) => finalStatusOn(r.events, id) !== undefined), 'every build to end', 150000);

        for (const id of ids) expect(finalStatusOn(global.events, id)).toBe('succeeded');
        const peak = peakConcurrency(global.events);
        expect(peak.total).toBe(2);
        expect(Object.fromEntries(peak.perWorker)).toEqual({ 'worker-1': 1, 'worker-2': 1 });
      },
      { env: { MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'never runs two builds of one project at once, when the same project (also by another path to it) is POSTed to two processes at the same moment',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis } = await cluster.startMany({ apis: 2, workers: 2 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        await cluster.waitForWorkers(a, ['worker-1', 'worker-2']);
        projects.configure('slow', { seconds: 1 });
        // Another name inside the root for the same folder: the same project once symlinks are resolved.
        fs.symlinkSync(projects.project('slow'), projects.project('slow-alias'));
        const global = stream(`${a.url}/api/log/push`);
        await global.connected;

        const accepted: string[] = [];
        for (let round = 1; round <= 3; round += 1) {
          const responses = await Promise.all(
            [
              [a, 'slow'],
              [b, 'slow'],
              [b, 'slow-alias'],
              [a, 'slow-alias'],
            ].map(([member, project]) => postJson(`${(member as ClusterProcess).url}/api/project/build`, { projectPath: project })),
          );
          const winners = responses.filter((r) => r.status === 202);
          expect(responses.map((r) => r.status).sort()).toEqual([202, 409, 409, 409]);
          const winner = winners[0]!.json.build as Build;
          expect(winner.projectPath).toBe(projects.project('slow'));
          for (const refused of responses.filter((r) => r.status === 409)) {
            expect(refused.json.error.code).toBe('already_building');
            expect(refused.json.build.id).toBe(winner.id);
          }
          accepted.push(winner.id);
          expect((await waitForEnd(b.url, winner.id, 90000)).status).toBe('succeeded');
        }
        await global.waitFor((r) => accepted.every((id) => finalStatusOn(r.events, id) !== undefined), 'the last build on the global stream', 30000);
        expect(peakConcurrency(global.events).perProject.get(projects.project('slow'))).toBe(1);
      },
      { env: { MAX_CONCURRENT_BUILDS: '1' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
