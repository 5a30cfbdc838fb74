import { freePort } from '../helpers/free-port.js';
import { postJson, request, startBuild, waitForEnd } from '../helpers/http.js';
import { expectToContainExactly, rebuildOutput, type SseEvent } from '../helpers/sse-reader.js';
import { sleep, waitFor } from '../helpers/wait.js';
import {
  CLUSTER_TEST_TIMEOUT_MS,
  NODE_STARTUP_ALLOWANCE_MS,
  REDIS_STALL_TOLERATED_MS,
  STARTUP_REDIS_LIMIT_MS,
  UNAVAILABLE_ANSWER_MS,
  UNAVAILABLE_WITHIN_MS,
} from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import type { Cluster } from '../helpers/cluster/cluster.js';
import type { ClusterProcess, Role } from '../helpers/cluster/cluster-process.js';
import { duplicateIds, expectSameEvents, lineNumbersOf, linesFixtureOutput, oneTo, replayBuild, ticksOf } from '../helpers/cluster/event-checks.js';
import { timedRequest } from '../helpers/cluster/timed-request.js';

/** The checks every fault below ends with: the followed stream is the build's whole stream, once, without reset. */
async function expectWholeStreamOnce(events: SseEvent[], replayFrom: ClusterProcess, buildId: string): Promise<void> {
  expect(events.filter((e) => e.event === 'reset')).toEqual([]);
  expect(duplicateIds(events)).toEqual([]);
  expectSameEvents(events, await replayBuild(replayFrom.url, buildId), `the stream followed across the fault against its replay on ${replayFrom.name}`);
}

/** API.md, "Redis faults lose nothing" and "A Redis stall is not a lost worker", each on a redis-server of the test's own. */
describe('a cluster: Redis faults', () => {
  afterAll(cleanUpClusterTests);

  it(
    'loses and duplicates no line when every connection to Redis is dropped during a build, several times',
    clusterTest(async ({ cluster, projects, redis, follow, note }) => {
      const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
      const [a, b] = apis as [ClusterProcess, ClusterProcess];
      await cluster.waitForWorkers(a, ['worker-1']);
      const count = 4000;
      projects.configure('lines', { count, batch: 40, delayMs: 25 });

      const build = await startBuild(a.url, 'lines');
      const reader = follow({ path: build.streamUrl, pickBaseUrl: () => a.url, deadlineMs: 180000 });
      await reader.waitFor((events) => lineNumbersOf(events, build.id).length >= 200, 'the first 200 lines', 90000);
      for (let i = 1; i <= 3; i += 1) {
        const killed = await redis.clientKillAll();
        note(`CLIENT KILL #${i}: ${killed} connections, at line ${lineNumbersOf(reader.events, build.id).at(-1)}`);
        expect(killed).toBeGreaterThan(0);
        await sleep(500);
      }
      await reader.finished;

      expect((await waitForEnd(b.url, build.id, 60000)).status).toBe('succeeded');
      expect(lineNumbersOf(reader.events, build.id)).toEqual(oneTo(count));
      expectToContainExactly(rebuildOutput(reader.events, build.id), linesFixtureOutput(count));
      await expectWholeStreamOnce(reader.events, b, build.id);
      expectToContainExactly((await request(`${b.url}${build.logUrl}?raw=1`)).text, linesFixtureOutput(count));
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'loses no line when Redis stops answering for 10 s mid-build: the build goes on and its stream resumes without reset',
    clusterTest(async ({ cluster, projects, redis, follow }) => {
      const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
      const [a, b] = apis as [ClusterProcess, ClusterProcess];
      await cluster.waitForWorkers(a, ['worker-1']);
      projects.configure('slow', { seconds: 25 });

      const build = await startBuild(a.url, 'slow');
      const reader = follow({ path: build.streamUrl, pickBaseUrl: () => a.url, deadlineMs: 200000 });
      await reader.waitFor((events) => ticksOf(events, build.id).includes(20), 'tick 20', 90000);
      redis.pause();
      try {
        await sleep(REDIS_STALL_TOLERATED_MS);
      } finally {
        redis.resume();
      }
      await reader.finished;

      expect((await waitForEnd(b.url, build.id, 60000)).status).toBe('succeeded');
      expect(ticksOf(reader.events, build.id)).toEqual(oneTo(250));
      await expectWholeStreamOnce(reader.events, b, build.id);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'answers 503 on /healthz and 503 storage_unavailable with Retry-After, within 1 s, at most 15 s after Redis stops answering; the refused POST has no effect',
    clusterTest(async ({ cluster, projects, redis }) => {
      const { apis, workers } = await cluster.startMany({ apis: 1, workers: 1 });
      const a = apis[0]!;
      const worker = workers[0]!;
      await cluster.waitForWorkers(a, ['worker-1']);
      const key = { 'Idempotency-Key': 'refused-while-redis-is-paused' };

      const pausedAt = Date.now();
      redis.pause();
      try {
        await sleep(pausedAt + UNAVAILABLE_WITHIN_MS - Date.now());
        for (const member of [a, worker]) {
          const health = await timedRequest(`${member.url}/healthz`);
          expect({ on: member.name, status: health.response?.status, body: health.response?.json?.status, error: health.error }).toEqual({ on: member.name, status: 503, body: 'unavailable', error: null });
          expect(health.elapsedMs).toBeLessThanOrEqual(UNAVAILABLE_ANSWER_MS);
        }
        const refused = await timedRequest(`${a.url}/api/project/build`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', ...key },
          body: JSON.stringify({ projectPath: 'failing' }),
        });
        expect(refused.response?.status).toBe(503);
        expect(refused.response?.json?.error?.code).toBe('storage_unavailable');
        expect(refused.response?.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(refused.elapsedMs).toBeLessThanOrEqual(UNAVAILABLE_ANSWER_MS);
      } finally {
        redis.resume();
      }

      await a.ready(60000);
      const failingPath = projects.project('failing');
      const listed = (await request(`${a.url}/api/builds`)).json.builds as Array<{ projectPath: string }>;
      expect(listed.filter((x) => x.projectPath === failingPath)).toEqual([]);
      // Neither its project lock nor its Idempotency-Key was kept: the same POST now starts a build.
      const accepted = await postJson(`${a.url}/api/project/build`, { projectPath: 'failing' }, key);
      expect(accepted.status).toBe(202);
      expect((await waitForEnd(a.url, accepted.json.build.id, 90000)).status).toBe('failed');
      const after = (await request(`${a.url}/api/builds`)).json.builds as Array<{ projectPath: string }>;
      expect(after.filter((x) => x.projectPath === failingPath)).toHaveLength(1);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  describe('at start-up', () => {
    /** Spawns one process of each role and expects each to stop, non-zero, with one line naming REDIS_URL. */
    async function expectEachRoleRefusesToStart(cluster: Cluster, env: Record<string, string>): Promise<void> {
      const roles: Role[] = ['api', 'worker', 'all'];
      const started = await Promise.all(
        roles.map(async (role) => {
          const port = await freePort();
          return { role, spawnedAt: Date.now(), member: cluster.spawn(role, port, { env }) };
        }),
      );
      for (const { role, spawnedAt, member } of started) {
        const exit = await member.waitForExit(STARTUP_REDIS_LIMIT_MS + NODE_STARTUP_ALLOWANCE_MS + 10000);
        expect({ role, code: exit.code, signal: exit.signal }).toEqual({ role, code: expect.any(Number), signal: null });
        expect(exit.code).not.toBe(0);
        expect(exit.at - spawnedAt).toBeLessThanOrEqual(STARTUP_REDIS_LIMIT_MS + NODE_STARTUP_ALLOWANCE_MS);
        const naming = member.output().split('\n').filter((line) => line.includes('REDIS_URL'));
        expect({ role, lines: naming.length }).toEqual({ role, lines: 1 });
      }
    }

    it(
      'stops with one line naming REDIS_URL and a non-zero exit when nothing listens at REDIS_URL',
      clusterTest(async ({ cluster }) => {
        await expectEachRoleRefusesToStart(cluster, { REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
      }),
      CLUSTER_TEST_TIMEOUT_MS,
    );

    it(
      'stops with one line naming REDIS_URL and a non-zero exit when the Redis at REDIS_URL never answers',
      clusterTest(async ({ cluster, redis }) => {
        redis.pause();
        await expectEachRoleRefusesToStart(cluster, {});
      }),
      CLUSTER_TEST_TIMEOUT_MS,
    );

    it(
      'stops with one line naming REDIS_URL when ROLE=api or ROLE=worker has no REDIS_URL',
      clusterTest(async ({ cluster }) => {
        for (const role of ['api', 'worker'] as const) {
          const member = cluster.spawn(role, await freePort(), { env: { REDIS_URL: '' } });
          const exit = await member.waitForExit(STARTUP_REDIS_LIMIT_MS + NODE_STARTUP_ALLOWANCE_MS);
          expect(exit.code).not.toBe(0);
          expect(exit.code).not.toBeNull();
          expect(member.output().split('\n').filter((line) => line.includes('REDIS_URL'))).toHaveLength(1);
        }
      }),
      CLUSTER_TEST_TIMEOUT_MS,
    );
  });

  it(
    'tells a reader that resumes with an id from before a Redis that came back empty to reset, and goes on streaming',
    clusterTest(async ({ cluster, projects, redis, stream, follow }) => {
      const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
      const [a, b] = apis as [ClusterProcess, ClusterProcess];
      await cluster.waitForWorkers(a, ['worker-1']);
      projects.configure('slow', { seconds: 1 });
      const global = stream(`${a.url}/api/log/push`);
      await global.connected;
      const before = await startBuild(a.url, 'slow');
      await waitForEnd(a.url, before.id, 90000);
      await global.waitFor((r) => r.named('build').some((e) => e.json.build.id === before.id && e.json.build.status === 'succeeded'), 'the end of the first build', 10000);
      const oldId = global.lastEventId!;
      global.close();

      await redis.restart();
      // It may refuse (503) while it notices; the reader keeps trying, as a client does.
      const reader = follow({ path: '/api/log/push', pickBaseUrl: () => b.url, lastEventId: oldId, deadlineMs: 120000, retryDelayMs: 500 });
      await reader.waitFor((events) => events.length > 0, 'a first event after the restart', 60000);
      expect(reader.events[0]!.event).toBe('reset');
      expect(reader.events[0]!.json).toEqual({ reason: 'history_truncated' });

      const after = await waitFor(
        async () => {
          const response = await postJson(`${a.url}/api/project/build`, { projectPath: 'failing' });
          return response.status === 202 ? response.json.build : null;
        },
        'a build accepted after the restart',
        60000,
        500,
      );
      await reader.waitFor((events) => events.some((e) => e.event === 'build' && e.json.build.id === after.id), 'the new build on the reset stream', 60000);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'does not make a worker lost while Redis stalls: its build goes on and succeeds',
    clusterTest(
      async ({ cluster, projects, redis, follow }) => {
        const { apis } = await cluster.startMany({ apis: 1, workers: 1 });
        const a = apis[0]!;
        await cluster.waitForWorkers(a, ['worker-1']);
        projects.configure('slow', { seconds: 15 });

        const build = await startBuild(a.url, 'slow');
        const reader = follow({ path: build.streamUrl, pickBaseUrl: () => a.url, deadlineMs: 200000 });
        await reader.waitFor((events) => ticksOf(events, build.id).includes(10), 'tick 10', 90000);
        redis.pause();
        try {
          await sleep(6000); // twice WORKER_LOST_MS, well below the 10 s Redis may stall
        } finally {
          redis.resume();
        }
        await a.ready(60000);
        const listed = await cluster.workers(a);
        expect(listed.find((w) => w.name === 'worker-1')?.status).toBe('busy');
        await reader.finished;

        expect((await waitForEnd(a.url, build.id, 60000)).status).toBe('succeeded');
        expect(ticksOf(reader.events, build.id)).toEqual(oneTo(150));
        await expectWholeStreamOnce(reader.events, a, build.id);
      },
      { env: { WORKER_LOST_MS: '3000' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
