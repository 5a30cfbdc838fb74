import { request, startBuild } from '../helpers/http.js';
import { expectToContainExactly, rebuildOutput, type SseEvent } from '../helpers/sse-reader.js';
import { sleep } from '../helpers/wait.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import { duplicateIds, eventsOfBuild, expectSameEvents, finalStatusOn, lineNumbersOf, linesFixtureOutput, oneTo, replayBuild, ticksOf } from '../helpers/cluster/event-checks.js';
import type { ResumingReader } from '../helpers/cluster/resuming-reader.js';
import { SeededRandom, seedFromEnv } from '../helpers/cluster/seeded-random.js';

const WORKER_LOST_MS = 2000;
const LINES = { count: 1500, batch: 15, delayMs: 15 };
const SLOW_SECONDS = 3;
/** Three `lines` builds and two `slow` ones: about 4,600 events in all, well within the 10,000 the global stream keeps. */
const PROJECTS = ['lines-1', 'slow-1', 'lines-2', 'slow-2', 'lines-3'];

const withoutIds = (events: readonly SseEvent[]) => events.map((e) => ({ ...e, id: undefined }));

/**
 * API.md, "Any route on any process", "One order, one id space" and "Redis faults lose
 * nothing", all at once: readers jump between api processes at random moments while a worker
 * dies and Redis drops every connection. Whatever happens, each stream a reader followed is
 * that stream, every event once, in order. The seed (CLUSTER_SEED to replay it) is in the
 * failure message; the timing of processes is not replayable, the choices are.
 */
describe('a cluster under random reconnects and faults', () => {
  afterAll(cleanUpClusterTests);

  it(
    "delivers each stream's events exactly once and in order to readers that resume on random processes, while a worker is killed and Redis connections drop",
    clusterTest(
      async ({ cluster, projects, redis, follow, note }) => {
        const seed = seedFromEnv();
        note(`seed ${seed}: replay its choices with CLUSTER_SEED=${seed}`);
        // One generator per actor, so that one actor's timing does not shift another's choices.
        const actor = (n: number) => new SeededRandom(seed + n);
        const choices = actor(0);
        const { apis, workers } = await cluster.startMany({ apis: 2, workers: 2 });
        await cluster.waitForWorkers(apis[0]!, ['worker-1', 'worker-2']);
        for (const name of PROJECTS) {
          projects.copy(name.replace(/-\d$/, ''), name);
          projects.configure(name, name.startsWith('lines') ? LINES : { seconds: SLOW_SECONDS });
        }
        const pickerFor = (random: SeededRandom) => () => random.pick(apis).url;
        const readerOptions = (random: SeededRandom, path: string) => ({ path, pickBaseUrl: pickerFor(random), deadlineMs: 240000, resumeViaQuery: random.next() < 0.5 });

        const globals = [actor(1), actor(2)].map((random) => follow(readerOptions(random, '/api/log/push')));
        await Promise.all(globals.map((g) => g.waitForConnection(30000)));

        let isChaosOver = false;
        const chaos: Promise<void>[] = [];
        /** Drops a reader's connection every 0.3 to 1.5 s until it is done or the chaos is over. */
        const jiggle = (reader: ResumingReader, random: SeededRandom) =>
          chaos.push(
            (async () => {
              while (!isChaosOver && !reader.hasEnded()) {
                await sleep(random.between(300, 1500));
                reader.reconnect();
              }
            })(),
          );
        globals.forEach((g, i) => jiggle(g, actor(10 + i)));

        const startedAt = Date.now();
        const victim = choices.pick(workers);
        const killAt = choices.between(1500, 5000);
        const clientKillsAt = [choices.between(1000, 8000), choices.between(1000, 8000), choices.between(1000, 8000)].sort((x, y) => x - y);
        note(`worker ${victim.name} SIGKILLed at +${killAt} ms; Redis CLIENT KILL at +${clientKillsAt.join(', +')} ms`);
        chaos.push(
          (async () => {
            await sleep(killAt);
            victim.kill9();
          })(),
          (async () => {
            for (const at of clientKillsAt) {
              await sleep(startedAt + at - Date.now());
              await redis.clientKillAll().catch(() => 0);
            }
          })(),
        );

        const builds: Array<{ id: string; project: string; reader: ResumingReader }> = [];
        for (const [i, project] of PROJECTS.entries()) {
          await sleep(choices.between(0, 500));
          const build = await startBuild(choices.pick(apis).url, project);
          const random = actor(100 + i);
          const reader = follow(readerOptions(random, build.streamUrl));
          jiggle(reader, actor(200 + i));
          builds.push({ id: build.id, project, reader });
        }
        note(`builds: ${builds.map((b) => `${b.project}=${b.id}`).join(', ')}`);

        await Promise.all(builds.map((b) => b.reader.finished));
        const ids = builds.map((b) => b.id);
        await Promise.all(globals.map((g) => g.waitFor((events) => ids.every((id) => finalStatusOn(events, id) !== undefined), 'the end of every build', 60000)));
        isChaosOver = true;
        for (const g of globals) g.stop();
        await Promise.all(chaos);

        const replayer = pickerFor(actor(3));
        const replays = new Map<string, SseEvent[]>();
        for (const { id, project, reader } of builds) {
          const replay = await replayBuild(replayer(), id);
          replays.set(id, replay);
          const label = `${project} (${id}, ${reader.connections.length} connections)`;
          expect(reader.events.filter((e) => e.event === 'reset')).toEqual([]);
          expect(duplicateIds(reader.events)).toEqual([]);
          expectSameEvents(reader.events, replay, `${label}: the followed stream against its replay`);

          const record = (await request(`${replayer()}/api/builds/${id}`)).json;
          // Only a build of the killed worker may be cut short.
          if (record.status === 'interrupted') expect({ label, worker: record.worker }).toEqual({ label, worker: victim.name });
          else expect({ label, status: record.status }).toEqual({ label, status: 'succeeded' });
          if (record.status !== 'succeeded') continue;
          if (project.startsWith('lines')) {
            expect(lineNumbersOf(reader.events, id)).toEqual(oneTo(LINES.count));
            expectToContainExactly(rebuildOutput(reader.events, id), linesFixtureOutput(LINES.count));
          } else {
            expect(ticksOf(reader.events, id)).toEqual(oneTo(SLOW_SECONDS * 10));
          }
        }

        for (const [i, g] of globals.entries()) {
          expect(g.events.filter((e) => e.event === 'reset')).toEqual([]);
          expect(duplicateIds(g.events)).toEqual([]);
          for (const id of ids) {
            const ofBuild = replays.get(id)!.filter((e) => e.event !== 'end');
            expectSameEvents(withoutIds(eventsOfBuild(g.events, id)), withoutIds(ofBuild), `global reader ${i + 1} (${g.connections.length} connections): build ${id} against its own stream`);
          }
        }
        expectSameEvents(globals[1]!.events, globals[0]!.events, 'the two global readers');
      },
      { env: { WORKER_LOST_MS: String(WORKER_LOST_MS), MAX_CONCURRENT_BUILDS: '2' } },
    ),
    300000,
  );
});

