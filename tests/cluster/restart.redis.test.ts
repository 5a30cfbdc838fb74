import { postJson, request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import type { SseEvent } from '../helpers/sse-reader.js';
import { waitFor } from '../helpers/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS } from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import type { ClusterProcess } from '../helpers/cluster/cluster-process.js';
import { expectSameEvents, replayBuild, ticksOf } from '../helpers/cluster/event-checks.js';
import { timedRequest } from '../helpers/cluster/timed-request.js';

/** What a client could read of one build before the restart. */
interface Snapshot {
  readonly record: unknown;
  readonly replay: SseEvent[];
  readonly log: string;
  readonly raw: string;
}

async function snapshot(member: ClusterProcess, id: string): Promise<Snapshot> {
  const record = await request(`${member.url}/api/builds/${id}`);
  const log = await request(`${member.url}/api/builds/${id}/log`);
  const raw = await request(`${member.url}/api/builds/${id}/log?raw=1`);
  expect([record.status, log.status, raw.status]).toEqual([200, 200, 200]);
  return { record: record.json, replay: await replayBuild(member.url, id), log: log.text, raw: raw.text };
}

const listedIds = async (member: ClusterProcess): Promise<string[]> => ((await request(`${member.url}/api/builds`)).json.builds as Array<{ id: string }>).map((b) => b.id);

/** API.md, "Restarts keep everything", and Retention, in a cluster. */
describe('a cluster: restarts and retention', () => {
  afterAll(cleanUpClusterTests);

  it(
    'keeps every record and log when every process is stopped and new ones start, and replays each build whole from any of them',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        await cluster.waitForWorkers(a, ['worker-1']);
        projects.configure('slow', { seconds: 1 });
        projects.configure('lines', { count: 500 });
        projects.copy('slow', 'slow-long');
        projects.configure('slow-long', { seconds: 60 });
        const key = { 'Idempotency-Key': 'deploy-before-restart' };

        const finished: string[] = [];
        for (const [i, project] of ['slow', 'failing', 'lines'].entries()) {
          const response = await postJson(`${[a, b][i % 2]!.url}/api/project/build`, { projectPath: project }, project === 'failing' ? key : {});
          expect(response.status).toBe(202);
          finished.push(response.json.build.id);
          await waitForEnd(a.url, response.json.build.id, 90000);
        }
        const long = await startBuild(b.url, 'slow-long');
        const longStream = stream(`${a.url}${long.streamUrl}`);
        await longStream.waitFor((r) => ticksOf(r.events, long.id).includes(3), 'tick 3 of the long build', 60000);
        const before = new Map<string, Snapshot>();
        for (const [i, id] of finished.entries()) before.set(id, await snapshot([a, b][i % 2]!, id));
        const idsBefore = await listedIds(a);
        expect(idsBefore).toEqual([long.id, ...[...finished].reverse()]);

        const seenBeforeStop = [...longStream.events];
        const exits = await cluster.stopAll();
        expect(exits.map((exit) => exit.code)).toEqual([0, 0, 0]);

        // New processes with new, empty DATA_DIRs: whatever they know comes from Redis.
        const { apis: fresh } = await cluster.startMany({ apis: 2, workers: 1 });
        const [c, d] = fresh as [ClusterProcess, ClusterProcess];
        for (const member of [c, d]) {
          expect(await listedIds(member)).toEqual(idsBefore);
          for (const id of finished) {
            const now = await snapshot(member, id);
            const then = before.get(id)!;
            expect(now.record).toEqual(then.record);
            expect(now.log).toBe(then.log);
            expect(now.raw).toBe(then.raw);
            expectSameEvents(now.replay, then.replay, `build ${id} replayed on ${member.name} after the restart`);
          }
          // The build that ran when its worker stopped ended interrupted, and replays whole too.
          const longReplay = await replayBuild(member.url, long.id);
          expect(longReplay.slice(-2).map((e) => [e.event, e.json.build.status])).toEqual([
            ['build', 'interrupted'],
            ['end', 'interrupted'],
          ]);
          expectSameEvents(longReplay.slice(0, seenBeforeStop.length), seenBeforeStop, `the long build's stream up to the stop, on ${member.name}`);
        }
        const again = await postJson(`${c.url}/api/project/build`, { projectPath: 'failing' }, key);
        expect(again.status).toBe(200);
        expect(again.json.build.id).toBe(finished[1]);
        const next = await startBuild(d.url, 'slow');
        expect(await waitForEnd(c.url, next.id, 90000)).toMatchObject({ status: 'succeeded', worker: 'worker-2' });
      },
      { env: { MAX_CONCURRENT_BUILDS: '2' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    "keeps each project's KEEP_BUILDS newest finished builds, on every process and across a restart",
    clusterTest(
      async ({ cluster, projects }) => {
        const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        await cluster.waitForWorkers(a, ['worker-1']);
        projects.configure('slow', { seconds: 0.5 });

        const other = await startBuild(a.url, 'slow');
        await waitForEnd(a.url, other.id, 90000);
        const failing: string[] = [];
        for (let i = 0; i < 4; i += 1) {
          const build = await startBuild([a, b][i % 2]!.url, 'failing');
          await waitForEnd(b.url, build.id, 90000);
          failing.push(build.id);
        }
        const [oldest, old, kept1, kept2] = failing as [string, string, string, string];
        const expected = [kept2, kept1, other.id];

        for (const member of [a, b]) {
          await waitFor(async () => JSON.stringify(await listedIds(member)) === JSON.stringify(expected), `only the kept builds listed on ${member.name}`, 30000, 200);
        }
        const expectDeleted = async (member: ClusterProcess) => {
          for (const id of [oldest, old]) {
            const record = await request(`${member.url}/api/builds/${id}`);
            expect([record.status, record.json?.error?.code]).toEqual([404, 'build_not_found']);
            expect((await request(`${member.url}/api/builds/${id}/log`)).status).toBe(404);
            // Bounded: a server that wrongly streams would never end the response.
            expect((await timedRequest(`${member.url}/api/log/push?build=${id}`)).response?.status).toBe(404);
          }
        };
        await expectDeleted(b);

        await cluster.stopAll();
        const { apis: fresh } = await cluster.startMany({ apis: 1, workers: 1 });
        expect(await listedIds(fresh[0]!)).toEqual(expected);
        await expectDeleted(fresh[0]!);
        await waitForBuild(fresh[0]!.url, kept2, (x) => x.status === 'failed', 10000);
      },
      { env: { KEEP_BUILDS: '2' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
