// `npm run cluster`: a small cluster on this machine, on the local Redis. Two api processes
// (the page and the API) and two workers (the builds), every log line prefixed with the
// process it came from; Ctrl-C or SIGTERM stops them all. The npm script builds dist/ first.
//
// Settings (environment): REDIS_URL (redis://127.0.0.1:6379), REDIS_PREFIX (buildlog-demo:),
// API_PORTS (3001,3002), WORKER_PORTS (3101,3102), HOST (127.0.0.1), PROJECTS_ROOT (examples/),
// DATA_DIR (data/cluster, one folder per process). Anything else, such as LOG_LEVEL or
// AUTH_TOKEN, reaches every process as it is.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mainScript = path.join(repoRoot, 'dist', 'main.js');
/** The contract gives a process 10 s to stop after SIGTERM; past this it gets SIGKILL. */
const STOP_GRACE_MS = 12000;
const READY_TIMEOUT_MS = 30000;

/** One line on stderr and exit 1: the way this script refuses. */
function fail(message) {
  process.stderr.write(`cluster: ${message}\n`);
  process.exit(1);
}

function ports(name, fallback) {
  const raw = process.env[name] || fallback;
  const list = raw.split(',').map((p) => p.trim());
  if (list.length !== 2 || !list.every((p) => /^\d+$/.test(p) && Number(p) > 0 && Number(p) < 65536)) {
    fail(`${name} must be two ports separated by a comma, got "${raw}"`);
  }
  return list.map(Number);
}

const settings = {
  redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  prefix: process.env.REDIS_PREFIX || 'buildlog-demo:',
  host: process.env.HOST || '127.0.0.1',
  projectsRoot: process.env.PROJECTS_ROOT || path.join(repoRoot, 'examples'),
  dataRoot: path.resolve(process.env.DATA_DIR || path.join(repoRoot, 'data', 'cluster')),
};
const [api1, api2] = ports('API_PORTS', '3001,3002');
const [worker1, worker2] = ports('WORKER_PORTS', '3101,3102');
const members = [
  { name: 'api-1', role: 'api', port: api1 },
  { name: 'api-2', role: 'api', port: api2 },
  { name: 'worker-1', role: 'worker', port: worker1 },
  { name: 'worker-2', role: 'worker', port: worker2 },
];

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const COLORS = [36, 35, 33, 32];
const label = (member, i) => {
  const text = member.name.padEnd(8);
  return useColor ? `\x1b[${COLORS[i % COLORS.length]}m${text}\x1b[0m |` : `${text} |`;
};

/** Whether something accepts TCP connections at REDIS_URL's host and port (what each process needs first). */
function canReachRedis(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    fail(`REDIS_URL is not a URL: "${url}"`);
  }
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(parsed.port || 6379) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

function start(member, i) {
  const dataDir = path.join(settings.dataRoot, member.name);
  fs.mkdirSync(dataDir, { recursive: true });
  const child = spawn(process.execPath, [mainScript], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      PORT: String(member.port),
      HOST: settings.host,
      ROLE: member.role,
      ...(member.role === 'worker' ? { WORKER_NAME: member.name } : {}),
      REDIS_URL: settings.redisUrl,
      REDIS_PREFIX: settings.prefix,
      PROJECTS_ROOT: settings.projectsRoot,
      DATA_DIR: dataDir,
    },
  });
  const prefix = label(member, i);
  for (const [stream, out] of [
    [child.stdout, process.stdout],
    [child.stderr, process.stderr],
  ]) {
    readline.createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => out.write(`${prefix} ${line}\n`));
  }
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { ...member, child, exited, hasExited: false, url: `http://${settings.host.includes(':') ? `[${settings.host}]` : settings.host}:${member.port}` };
}

/** Polls GET /healthz until it answers 200; false if the process exits or the time is up. */
async function waitReady(running) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!running.hasExited && Date.now() < deadline) {
    try {
      const response = await fetch(`${running.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

let stopping = null;

/** SIGTERM to every process still running, SIGKILL to any still there after STOP_GRACE_MS; then exit. */
function stopAll(exitCode) {
  stopping ??= (async () => {
    const alive = started.filter((r) => !r.hasExited);
    for (const r of alive) r.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      for (const r of started.filter((s) => !s.hasExited)) {
        process.stderr.write(`cluster: ${r.name} did not stop within ${STOP_GRACE_MS / 1000} s; killing it\n`);
        r.child.kill('SIGKILL');
      }
    }, STOP_GRACE_MS);
    await Promise.all(alive.map((r) => r.exited));
    clearTimeout(timer);
    process.exit(exitCode);
  })();
  return stopping;
}

if (!fs.existsSync(mainScript)) fail('dist/main.js is missing: run "npm run cluster" (it builds first) or "npm run build"');
if (!(await canReachRedis(settings.redisUrl))) {
  fail(`nothing answers at REDIS_URL ${settings.redisUrl}: start Redis (redis-server --save "" --appendonly no, or bash scripts/setup-test-machine.sh) or set REDIS_URL`);
}

const started = members.map(start);
for (const running of started) {
  void running.exited.then(({ code, signal }) => {
    running.hasExited = true;
    if (stopping) return;
    process.stderr.write(`cluster: ${running.name} exited (${signal ?? `code ${code}`}); stopping the others\n`);
    void stopAll(1);
  });
}
process.on('SIGINT', () => {
  if (stopping) {
    // A second Ctrl-C: no more waiting.
    for (const r of started.filter((s) => !s.hasExited)) r.child.kill('SIGKILL');
    process.exit(1);
  }
  process.stdout.write('cluster: stopping every process (SIGTERM); Ctrl-C again to kill them\n');
  void stopAll(0);
});
process.on('SIGTERM', () => void stopAll(0));

const ready = await Promise.all(started.map(waitReady));
if (!stopping) {
  if (!ready.every(Boolean)) {
    const late = started.filter((_, i) => !ready[i]).map((r) => r.name);
    process.stderr.write(`cluster: ${late.join(', ')} did not answer /healthz within ${READY_TIMEOUT_MS / 1000} s; stopping\n`);
    await stopAll(1);
  }
  process.stdout.write(`\ncluster on ${settings.redisUrl} (REDIS_PREFIX ${settings.prefix}), projects in ${settings.projectsRoot}:\n`);
  for (const [i, r] of started.entries()) {
    const what = r.role === 'api' ? `${r.url}/  the page and the API` : `${r.url}/healthz  and /metrics (runs builds as ${r.name})`;
    process.stdout.write(`  ${label(r, i)} ${what}\n`);
  }
  process.stdout.write('Ctrl-C stops them all.\n\n');
}
