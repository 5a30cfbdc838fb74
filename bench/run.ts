import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { BenchRedis, DEFAULT_REDIS_URL, RedisUnavailableError } from './harness/bench-redis.js';
import { compileChildren } from './harness/compile-children.js';
import { installExitCleanup, runExitCleanups } from './harness/exit-cleanup.js';
import { benchDir } from './harness/paths.js';
import { runCells } from './harness/run-cells.js';
import { SERVER_KINDS, type ServerKind } from './harness/server-kinds.js';
import { ServerPool } from './harness/server-pool.js';
import { streamReaderPids } from './harness/stream-readers.js';
import { assembleResults } from './report/assemble-results.js';
import { printReport } from './report/print-report.js';
import { writeResults } from './report/write-results.js';
import { maxConnections, needsRedis } from './scenarios/scenario-runners.js';
import { scenarios, type Scenario } from './scenarios/scenario-spec.js';

/**
 * `npm run bench [-- flags]`: every scenario against LIMIT, SEED and OURS (rows e–g: OURS
 * against itself; h–j: OURS as a cluster on Redis against OURS as one process), `runs` times
 * each, then the medians, the targets for OURS, and the JSON under bench/results/. Flags
 * parsed with commander (a dependency already); see --help.
 */
interface Options {
  scale: number;
  runs: number;
  only: string[] | undefined;
  servers: ServerKind[];
  reuseServers: boolean;
  out: string;
  profile: boolean | string;
  profileLoad: boolean;
  lineWidth: number;
  connectBatch: number;
  sampled: number;
  redis: string;
  quiet: boolean;
}

const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
};
const positiveInt = (value: string) => {
  const n = positiveNumber(value);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be a positive integer');
  return n;
};
const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);
const serverList = (value: string) => {
  const kinds = list(value).map((s) => s.toUpperCase());
  for (const kind of kinds) if (!(SERVER_KINDS as readonly string[]).includes(kind)) throw new InvalidArgumentError(`unknown server ${kind}`);
  return kinds as ServerKind[];
};

function parseOptions(argv: string[]): Options {
  const program = new Command('bench')
    .description('SSE fan-out bench: LIMIT (raw node:http), SEED (koa-sse-stream), OURS (dist/main.js)')
    .option('--scale <factor>', 'clients, durations and replay size times this; rates stay (env BENCH_SCALE)', positiveNumber, Number(process.env.BENCH_SCALE ?? 1))
    .option('--runs <n>', 'runs of every cell; medians are reported (env BENCH_RUNS)', positiveInt, Number(process.env.BENCH_RUNS ?? 3))
    .option('--only <scenarios>', "comma-separated: a, b, b1 (b'), b2 (b''), c, d, and e, f, g, h, i, j (OURS only; h–j need Redis) (env BENCH_ONLY)", list, process.env.BENCH_ONLY ? list(process.env.BENCH_ONLY) : undefined)
    .option('--servers <kinds>', 'comma-separated: LIMIT,SEED,OURS', serverList, [...SERVER_KINDS])
    .option('--reuse-servers', 'one server process per kind for every cell (faster, less clean)', false)
    .option('--out <dir>', 'folder for latest.json and its timestamped copy', path.join(benchDir, 'results'))
    .option('--profile [servers]', 'run OURS (or the servers listed) with --cpu-prof and print the top functions of each measured window', false)
    .option('--profile-load', 'run the load worker with --cpu-prof too (is the generator the limit?)', false)
    .option('--line-width <chars>', 'characters of each line of output', positiveInt, 80)
    .option('--connect-batch <n>', 'clients connected at once while ramping up', positiveInt, 500)
    .option('--sampled <n>', 'readers per cell that parse every event (latency, order)', positiveInt, 20)
    .option('--redis <url>', 'the Redis of rows h–j (each cluster takes a REDIS_PREFIX of its own and deletes its keys) (env BENCH_REDIS_URL)', process.env.BENCH_REDIS_URL ?? DEFAULT_REDIS_URL)
    .option('--quiet', 'no progress lines', false)
    .parse(argv);
  return program.opts<Options>();
}

function selectScenarios(options: Options): Scenario[] {
  const all = scenarios(options.scale);
  if (!options.only) return all;
  const unknown = options.only.filter((key) => !all.some((s) => s.key === key));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}; pick from ${all.map((s) => s.key).join(', ')}`);
  return all.filter((s) => options.only!.includes(s.key));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv);
  const selected = selectScenarios(options);
  installExitCleanup();
  // Before anything is started: without Redis, rows h–j cannot run, and that is said at once.
  const redis = options.servers.includes('OURS') && selected.some(needsRedis) ? await BenchRedis.connect(options.redis) : null;
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const isProfiling = options.profile !== false || options.profileLoad;
  const profileDir = isProfiling ? path.join(options.out, 'profiles', startedAt.toISOString().replace(/[:.]/g, '-')) : null;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });

  const children = await compileChildren();
  const pool = new ServerPool(children, {
    reuse: options.reuseServers,
    maxClients: Math.max(...selected.map(maxConnections)) + 10,
    cpuProfileDir: profileDir,
    profiled: options.profile === false ? [] : options.profile === true ? ['OURS'] : serverList(options.profile),
  });
  let runs;
  try {
    runs = await runCells(
      {
        scenarios: selected,
        redis,
        runs: options.runs,
        servers: options.servers,
        settings: { connectBatch: options.connectBatch, sampledClients: options.sampled, lineWidth: options.lineWidth, readerEntry: children.streamReader },
        loadWorkerEntry: children.loadWorker,
        loadProfileDir: options.profileLoad ? profileDir : null,
        log: (line) => {
          if (!options.quiet) process.stderr.write(`${line}\n`);
        },
      },
      pool,
    );
  } finally {
    await pool.stopAll();
    children.remove();
    await redis?.quit();
  }
  const settings = {
    scale: options.scale,
    runs: options.runs,
    lineWidth: options.lineWidth,
    connectBatch: options.connectBatch,
    sampledClients: options.sampled,
    reuseServers: options.reuseServers,
    redisUrl: redis?.url ?? null,
  };
  const results = assembleResults(selected, options.servers, runs, [...pool.pids, ...streamReaderPids], settings, startedAt, loadAverageAtStart);
  printReport(results, writeResults(options.out, results), profileDir);
}

main().catch((error: unknown) => {
  if (error instanceof RedisUnavailableError) console.error(`bench: rows h, i, j need Redis: ${error.message}; start it, or name another with --redis (env BENCH_REDIS_URL)`);
  else console.error(error instanceof Error ? error.stack : error);
  runExitCleanups();
  process.exit(1);
});
