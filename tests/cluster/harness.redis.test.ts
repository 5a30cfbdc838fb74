import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { repoRoot } from '../../src/paths.js';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { isAlive } from '../helpers/processes.js';
import { request, startBuild, waitForEnd } from '../helpers/http.js';
import { expectToContainExactly, rebuildOutput, type SseEvent } from '../helpers/sse-reader.js';
import { Cluster } from '../helpers/cluster/cluster.js';
import { cleanUpClusterTests, clusterTest } from '../helpers/cluster/cluster-test.js';
import { expectSameEvents, firstDifference, lineNumbersOf, linesFixtureOutput, oneTo, replayBuild } from '../helpers/cluster/event-checks.js';
import { processesWorkingIn } from '../helpers/cluster/leftover-processes.js';
import { PrivateRedis } from '../helpers/cluster/private-redis.js';
import { SeededRandom } from '../helpers/cluster/seeded-random.js';

/**
 * The harness itself, against what exists today: a private redis-server that can be paused,
 * resumed, emptied and cut off, and a launcher that starts, signals and reaps server
 * processes. Every other cluster test stands on these.
 */
describe('the cluster test harness', () => {
  let redis: PrivateRedis | null = null;

  afterEach(async () => {
    await redis?.stop();
    redis = null;
  });

  afterAll(cleanUpClusterTests);

  describe('require-redis.mjs', () => {
    const script = path.join(repoRoot, 'tests', 'helpers', 'require', 'require-redis.mjs');

    it('passes when redis-server is on PATH', () => {
      const result = spawnSync(process.execPath, [script], { encoding: 'utf8' });
      expect(result.status).toBe(0);
      expect(result.stderr).toBe('');
    });

    it('fails with one line naming the package when redis-server is not on PATH', () => {
      const emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-nopath-'));
      try {
        const result = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { PATH: emptyDir } });
        expect(result.status).toBe(1);
        const lines = result.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/redis-server.*apt-get install -y redis-server/);
      } finally {
        fs.rmSync(emptyDir, { recursive: true, force: true });
      }
    });
  });

  describe('a private redis-server', () => {
    it('answers PING through ioredis and keeps what it is given', async () => {
      redis = await PrivateRedis.start();
      expect(await redis.ping()).toBe('PONG');
      await redis.withClient((client) => client.set('harness:key', 'value'));
      expect(await redis.withClient((client) => client.get('harness:key'))).toBe('value');
    });

    it('answers nothing while paused, and again once resumed', async () => {
      redis = await PrivateRedis.start();
      redis.pause();
      await expect(redis.ping(500)).rejects.toThrow();
      redis.resume();
      expect(await redis.ping()).toBe('PONG');
    });

    it('comes back empty on the same port after restart()', async () => {
      redis = await PrivateRedis.start();
      const { port } = redis;
      await redis.withClient((client) => client.set('harness:key', 'value'));
      await redis.restart();
      expect(redis.port).toBe(port);
      expect(await redis.ping()).toBe('PONG');
      expect(await redis.withClient((client) => client.get('harness:key'))).toBeNull();
    });

    it('restarts also while paused', async () => {
      redis = await PrivateRedis.start();
      redis.pause();
      await redis.restart();
      expect(await redis.ping()).toBe('PONG');
    });

    it('drops every client connection on clientKillAll(), and the clients can reconnect', async () => {
      redis = await PrivateRedis.start();
      const client = new Redis(redis.url, { retryStrategy: () => 50 });
      const subscriber = new Redis(redis.url, { retryStrategy: () => 50 });
      client.on('error', () => {});
      subscriber.on('error', () => {});
      try {
        await client.ping();
        await subscriber.subscribe('harness:channel');
        let closes = 0;
        client.on('close', () => (closes += 1));
        subscriber.on('close', () => (closes += 1));
        expect(await redis.clientKillAll()).toBeGreaterThanOrEqual(2);
        expect(await client.ping()).toBe('PONG'); // after reconnecting
        expect(closes).toBeGreaterThanOrEqual(1);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(closes).toBe(2);
      } finally {
        client.disconnect();
        subscriber.disconnect();
      }
    });

    it('refuses connections once killed', async () => {
      redis = await PrivateRedis.start();
      await redis.kill();
      await expect(redis.ping(500)).rejects.toThrow();
    });
  });

  describe('the cluster launcher', () => {
    let projects: ProjectsRoot;
    let tempDir: string;
    let cluster: Cluster;

    beforeEach(async () => {
      redis = await PrivateRedis.start();
      projects = makeProjectsRoot();
      tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-cluster-'));
      cluster = new Cluster({ redisUrl: redis.url, prefix: 'buildlog-harness:', projectsRoot: projects.root, tempDir });
    });

    afterEach(async () => {
      cluster.killAll();
      await cluster.allExited();
      projects.remove();
      fs.rmSync(tempDir, { recursive: true, force: true });
    });

    it('starts a process on a port of its own and knows it ready once /healthz answers 200', async () => {
      const member = await cluster.start('all', { name: 'harness-1' });
      expect((await request(`${member.url}/healthz`)).status).toBe(200);
      expect((await request(`${member.url}/api/projects`)).status).toBe(200);
      expect(member.hasExited()).toBe(false);
    }, 60000);

    it('stops a process with SIGTERM and reports its exit code', async () => {
      const member = await cluster.start('all', { name: 'harness-1' });
      member.terminate();
      const exit = await member.waitForExit(10000);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(isAlive(member.pid)).toBe(false);
    }, 60000);

    it('kills a process with SIGKILL, and stopAll() stops the rest', async () => {
      const [first, second] = await Promise.all([cluster.start('all', { name: 'harness-1' }), cluster.start('all', { name: 'harness-2' })]);
      expect(first!.port).not.toBe(second!.port);
      first!.kill9();
      expect(await first!.waitForExit(10000)).toMatchObject({ code: null, signal: 'SIGKILL' });
      const exits = await cluster.stopAll();
      expect(exits).toEqual([expect.objectContaining({ code: 0 })]);
      expect(isAlive(second!.pid)).toBe(false);
    }, 60000);

    it('keeps what a process printed, for failure messages', async () => {
      const member = await cluster.start('all', { name: 'harness-1' });
      expect(member.describe()).toContain('harness-1');
      expect(member.output().length).toBeGreaterThan(0);
    }, 60000);
  });

  // A cluster of one `all` process, which today's single-process server already is: the
  // stream helpers checked where the server's behaviour is known.
  describe('the stream helpers, on one process', () => {
    it(
      'rebuild a whole build stream from a reader that is dropped again and again, and leave no build process behind',
      clusterTest(async ({ cluster, projects, follow }) => {
        const solo = await cluster.start('all', { name: 'solo' });
        expect((await cluster.waitForWorkers(solo, ['solo'])).map((w) => w.name)).toEqual(['solo']);
        projects.configure('lines', { count: 2000, batch: 20, delayMs: 10 });

        const build = await startBuild(solo.url, 'lines');
        const reader = follow({ path: build.streamUrl, pickBaseUrl: () => solo.url, deadlineMs: 120000, resumeViaQuery: true });
        const dropper = setInterval(() => reader.reconnect(), 150);
        try {
          await reader.finished;
        } finally {
          clearInterval(dropper);
        }
        expect((await waitForEnd(solo.url, build.id)).status).toBe('succeeded');
        expect(reader.connections.length).toBeGreaterThan(3);
        expect(lineNumbersOf(reader.events, build.id)).toEqual(oneTo(2000));
        expectToContainExactly(rebuildOutput(reader.events, build.id), linesFixtureOutput(2000));
        expectSameEvents(reader.events, await replayBuild(solo.url, build.id), 'the dropped reader against the replay');
        expect(processesWorkingIn(projects.root)).toEqual([]);
      }),
      120000,
    );

    it('name the first event where two streams differ', () => {
      const event = (id: string, data: string): SseEvent => ({ id, event: 'log', data, json: JSON.parse(data), receivedAt: 0 });
      const expected = [event('1', '{"n":1}'), event('2', '{"n":2}'), event('3', '{"n":3}')];
      expect(firstDifference(expected, [...expected])).toBeNull();
      expect(firstDifference([expected[0]!, expected[2]!], expected)).toMatch(/^differ at event 1 of 2 \(expected 3\):\n  got      id 3 /);
      expect(firstDifference([...expected, expected[2]!], expected)).toMatch(/^differ at event 3 of 4 .*\n  got      id 3 .*\n  expected \(nothing\)/);
    });

    it('replay the same choices from the same seed', () => {
      const draw = (seed: number) => {
        const random = new SeededRandom(seed);
        return Array.from({ length: 5 }, () => random.between(0, 1000));
      };
      expect(draw(42)).toEqual(draw(42));
      expect(draw(42)).not.toEqual(draw(43));
    });
  });
});
