import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeProjectsRoot, type ProjectsRoot } from '../projects.js';
import { SseReader } from '../sse-reader.js';
import { Cluster } from './cluster.js';
import { killProcessesWorkingIn } from './leftover-processes.js';
import { killAllOwned } from './owned-processes.js';
import { PrivateRedis } from './private-redis.js';
import { ResumingReader, type ResumingReaderOptions } from './resuming-reader.js';

/** What each cluster test gets: its own Redis, its own projects, a cluster with its own prefix. */
export interface ClusterContext {
  readonly redis: PrivateRedis;
  readonly projects: ProjectsRoot;
  readonly cluster: Cluster;
  /** Adds a line to the failure message (a seed, a step reached). */
  note(line: string): void;
  /** Runs at cleanup, before the processes are killed (closing readers, for instance). */
  onCleanup(fn: () => void | Promise<void>): void;
  /** A stream reader on one connection, closed at cleanup. */
  stream(url: string, headers?: Record<string, string>): SseReader;
  /** A reader that resumes across faults (see ResumingReader), stopped at cleanup. */
  follow(options: ResumingReaderOptions): ResumingReader;
}

export interface ClusterTestOptions {
  /** Settings every process of the cluster gets. */
  readonly env?: Readonly<Record<string, string>>;
}

interface Resources {
  readonly redis: PrivateRedis;
  readonly projects: ProjectsRoot;
  readonly cluster: Cluster;
  readonly tempDir: string;
  readonly cleanups: Array<() => void | Promise<void>>;
}

/** Tests whose resources are not released yet (a test that timed out may still be running). */
const live = new Set<Resources>();

/**
 * Wraps a test body: starts a private redis-server and a fresh projects root, hands them over
 * with a cluster on a prefix of its own, and always releases everything, whatever happened.
 * A failure carries every process's last lines and the test's notes.
 */
export function clusterTest(body: (context: ClusterContext) => Promise<void>, { env = {} }: ClusterTestOptions = {}): () => Promise<void> {
  return async () => {
    const redis = await PrivateRedis.start();
    const projects = makeProjectsRoot();
    const tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-cluster-'));
    const cluster = new Cluster({ redisUrl: redis.url, prefix: `buildlog-test-${randomUUID().slice(0, 8)}:`, projectsRoot: projects.root, tempDir, env });
    const resources: Resources = { redis, projects, cluster, tempDir, cleanups: [] };
    live.add(resources);
    const notes: string[] = [];
    try {
      const onCleanup = (fn: () => void | Promise<void>) => resources.cleanups.push(fn);
      await body({
        redis,
        projects,
        cluster,
        note: (line) => notes.push(line),
        onCleanup,
        stream: (url, headers = {}) => {
          const reader = new SseReader(url, headers);
          onCleanup(() => reader.close());
          return reader;
        },
        follow: (options) => {
          const reader = new ResumingReader(options);
          onCleanup(() => reader.stop());
          return reader;
        },
      });
    } catch (error) {
      throw withContext(error, [...notes, `REDIS_PREFIX ${cluster.prefix}, Redis ${redis.url}`, cluster.describe()].join('\n'));
    } finally {
      await release(resources);
    }
  };
}

/** For afterAll: releases what tests that timed out left behind, and kills anything still owned. */
export async function cleanUpClusterTests(): Promise<void> {
  await Promise.all([...live].map(release));
  killAllOwned();
}

async function release(resources: Resources): Promise<void> {
  if (!live.delete(resources)) return;
  for (const cleanup of resources.cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // cleanup goes on
    }
  }
  resources.cluster.killAll();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([resources.cluster.allExited(), new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
  clearTimeout(timer);
  killProcessesWorkingIn(resources.projects.root);
  await resources.redis.stop();
  resources.projects.remove();
  fs.rmSync(resources.tempDir, { recursive: true, force: true });
}

/** The same error, its message (and the head of its stack, which jest prints) followed by `context`. */
function withContext(error: unknown, context: string): unknown {
  if (!(error instanceof Error)) return error;
  const frames = (error.stack ?? '').split('\n').filter((line) => /^\s+at /.test(line));
  error.message = `${error.message}\n\n${context}`;
  error.stack = [`${error.name}: ${error.message}`, ...frames].join('\n');
  return error;
}
