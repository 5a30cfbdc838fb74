import { startBuild } from '../helpers/http.js';
import type { SseEvent, SseReader } from '../helpers/sse-reader.js';
import { CLUSTER_TEST_TIMEOUT_MS } from '../helpers/cluster/contract-limits.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import type { ClusterProcess } from '../helpers/cluster/cluster-process.js';
import { duplicateIds, eventsOfBuild, expectSameEvents, finalStatusOn, oneTo, replayBuild, ticksOf } from '../helpers/cluster/event-checks.js';

/** Builds of several projects at once, spread over both api processes. */
async function startSeveral(apis: readonly ClusterProcess[], projects: readonly string[]): Promise<string[]> {
  const builds = await Promise.all(projects.map((project, i) => startBuild(apis[i % apis.length]!.url, project)));
  return builds.map((build) => build.id as string);
}

/** Waits until a global reader has seen every one of these builds end. */
function allEnded(reader: SseReader, ids: readonly string[], timeoutMs = 120000): Promise<void> {
  return reader.waitFor((r) => ids.every((id) => finalStatusOn(r.events, id) !== undefined), `the end of builds ${ids.join(', ')}`, timeoutMs);
}

/** The events of a stream without their ids: what two different streams of one build share. */
const withoutIds = (events: readonly SseEvent[]) => events.map((e) => ({ ...e, id: undefined }));

/** API.md, "One order, one id space". */
describe('a cluster: one order, one id space', () => {
  afterAll(cleanUpClusterTests);

  it(
    'gives readers of the global stream on different api processes the same events, with the same ids, in the same order',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis } = await cluster.startMany({ apis: 2, workers: 2 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        await cluster.waitForWorkers(a, ['worker-1', 'worker-2']);
        for (const name of ['slow-1', 'slow-2']) {
          projects.copy('slow', name);
          projects.configure(name, { seconds: 1 });
        }
        projects.configure('lines', { count: 300, batch: 10, delayMs: 5 });
        const readers = [stream(`${a.url}/api/log/push`), stream(`${b.url}/api/log/push`)];
        await Promise.all(readers.map((r) => r.connected));
        expect(readers.map((r) => r.status)).toEqual([200, 200]);

        const ids = await startSeveral(apis, ['slow-1', 'slow-2', 'lines', 'failing']);
        await Promise.all(readers.map((r) => allEnded(r, ids)));

        const [onA, onB] = readers.map((r) => r.events) as [SseEvent[], SseEvent[]];
        expect(duplicateIds(onA)).toEqual([]);
        expectSameEvents(onB, onA, `the global stream on ${b.name} against ${a.name}`);
        // It carries each build's events as that build's own stream does.
        for (const id of ids) {
          const replay = (await replayBuild(b.url, id)).filter((e) => e.event !== 'end');
          expectSameEvents(withoutIds(eventsOfBuild(onA, id)), withoutIds(replay), `build ${id} on the global stream against its ?build= stream`);
        }
      },
      { env: { MAX_CONCURRENT_BUILDS: '2' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    'resumes the global stream on another process from an id received on one, with every later event exactly once',
    clusterTest(
      async ({ cluster, projects, stream }) => {
        const { apis } = await cluster.startMany({ apis: 2, workers: 2 });
        const [a, b] = apis as [ClusterProcess, ClusterProcess];
        await cluster.waitForWorkers(a, ['worker-1', 'worker-2']);
        for (const name of ['slow-1', 'slow-2']) {
          projects.copy('slow', name);
          projects.configure(name, { seconds: 3 });
        }
        projects.configure('lines', { count: 400, batch: 4, delayMs: 10 });
        const control = stream(`${b.url}/api/log/push`);
        const first = stream(`${a.url}/api/log/push`);
        await Promise.all([control.connected, first.connected]);

        const ids = await startSeveral(apis, ['slow-1', 'lines', 'slow-2']);
        await first.waitFor((r) => r.events.length >= 30, 'some events on the first process', 90000);
        first.close();
        // The header on the second process, the query parameter back on the first.
        const second = stream(`${b.url}/api/log/push`, { 'Last-Event-ID': first.lastEventId! });
        await second.waitFor((r) => r.events.length >= 30, 'some events after resuming on the second process', 90000);
        second.close();
        const third = stream(`${a.url}/api/log/push?lastEventId=${encodeURIComponent(second.lastEventId!)}`);
        await Promise.all([allEnded(control, ids), allEnded(third, ids)]);

        const resumed = [...first.events, ...second.events, ...third.events];
        expect(resumed.filter((e) => e.event === 'reset')).toEqual([]);
        expect(duplicateIds(resumed)).toEqual([]);
        expectSameEvents(resumed, control.events, 'the global stream resumed across processes against one reader that never left');
      },
      { env: { MAX_CONCURRENT_BUILDS: '2' } },
    ),
    CLUSTER_TEST_TIMEOUT_MS,
  );

  it(
    "resumes a build's stream on another process from an id received on one, with no gap and no duplicate",
    clusterTest(async ({ cluster, projects, stream }) => {
      const { apis } = await cluster.startMany({ apis: 2, workers: 1 });
      const [a, b] = apis as [ClusterProcess, ClusterProcess];
      await cluster.waitForWorkers(a, ['worker-1']);
      projects.configure('slow', { seconds: 3 });

      const build = await startBuild(a.url, 'slow');
      const tickAtLeast = (n: number) => (r: SseReader) => ticksOf(r.events, build.id).some((tick) => tick >= n);
      const first = stream(`${a.url}${build.streamUrl}`);
      await first.waitFor(tickAtLeast(5), 'tick 5 on the first process', 90000);
      first.close();
      const second = stream(`${b.url}${build.streamUrl}`, { 'Last-Event-ID': first.lastEventId! });
      await second.waitFor(tickAtLeast(15), 'tick 15 on the second process', 90000);
      second.close();
      const third = stream(`${a.url}${build.streamUrl}&lastEventId=${encodeURIComponent(second.lastEventId!)}`);
      await third.waitFor((r) => r.named('end').length > 0, 'the end on the first process again', 90000);

      const resumed = [...first.events, ...second.events, ...third.events];
      expect(resumed.filter((e) => e.event === 'reset')).toEqual([]);
      expect(ticksOf(resumed, build.id)).toEqual(oneTo(30));
      const replayOnA = await replayBuild(a.url, build.id);
      expectSameEvents(resumed, replayOnA, 'the resumed build stream against its replay');
      expectSameEvents(await replayBuild(b.url, build.id), replayOnA, `the replay on ${b.name} against ${a.name}`);
    }),
    CLUSTER_TEST_TIMEOUT_MS,
  );
});
