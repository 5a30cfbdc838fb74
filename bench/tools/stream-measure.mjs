// Measures resume cost and memory (issue 8, defects 2 and 3). Not a test: a script run by hand.
//   node stream-measure.mjs prepare <dir>            runs a 10,000- and a 1,000,000-line build into <dir>/data
//   node stream-measure.mjs resume <repo> <dir>      starts <repo>/dist/main.js on <dir>/data and times resumes
// Time to first event (TTFE) is from sending the request to the first `id:` byte after `retry:`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const [mode, ...args] = process.argv.slice(2);
const here = path.dirname(new URL(import.meta.url).pathname);

function startServer(repo, env) {
  const child = spawn(process.execPath, [path.join(repo, 'dist', 'main.js')], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', LOG_LEVEL: 'info', ...env },
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk;
      const match = /http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) resolve({ child, url: `http://127.0.0.1:${match[1]}` });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return response.json();
}

async function waitForEnd(url, id) {
  for (;;) {
    const build = await (await fetch(`${url}/api/builds/${id}`)).json();
    if (!['queued', 'running'].includes(build.status)) return build;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** Resolves with the ms until the first event's bytes arrive, then hangs up. */
function timeToFirstEvent(url, lastEventId) {
  return new Promise((resolve, reject) => {
    const startedAt = process.hrtime.bigint();
    const req = http.get(url, { agent: false, headers: lastEventId ? { 'Last-Event-ID': lastEventId } : {} }, (res) => {
      let seen = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        seen += chunk;
        if (!/\nid: /.test(seen) && !seen.startsWith('id: ')) return;
        const ms = Number(process.hrtime.bigint() - startedAt) / 1e6;
        const first = /event: (\w+)/.exec(seen)?.[1];
        req.destroy();
        resolve({ ms, first });
      });
    });
    req.on('error', (error) => (error.code === 'ECONNRESET' ? null : reject(error)));
  });
}

/** The id of the frame that starts at or after a byte offset of a history file. */
function idNear(file, offset) {
  const fd = fs.openSync(file, 'r');
  const buffer = Buffer.alloc(4096);
  fs.readSync(fd, buffer, 0, buffer.length, offset);
  fs.closeSync(fd);
  const text = buffer.toString('latin1');
  return /\n\nid: ([^\n]+)\n/.exec(text)[1];
}

if (mode === 'prepare') {
  const [dir] = args;
  const root = path.join(dir, 'projects');
  for (const [name, count] of [['small', 10000], ['big', 1000000]]) {
    fs.cpSync(path.join(here, '..', 'tests', 'fixtures', 'projects', 'lines'), path.join(root, name), { recursive: true });
    fs.cpSync(path.join(here, '..', 'tests', 'fixtures', 'projects', 'fixture-options.cjs'), path.join(root, 'fixture-options.cjs'));
    fs.writeFileSync(path.join(root, name, 'fixture.json'), JSON.stringify({ count, width: 40, batch: 1000 }));
  }
  const { child, url } = await startServer(path.join(here, '..'), { DATA_DIR: path.join(dir, 'data'), PROJECTS_ROOT: root });
  const ids = {};
  for (const name of ['small', 'big']) {
    const { build } = await post(`${url}/api/project/build`, { projectPath: name });
    await waitForEnd(url, build.id);
    ids[name] = build.id;
    console.log(name, build.id, fs.statSync(path.join(dir, 'data', 'builds', build.id, 'events.sse')).size, 'bytes of history');
  }
  fs.writeFileSync(path.join(dir, 'ids.json'), JSON.stringify(ids));
  child.kill('SIGTERM');
} else if (mode === 'resume') {
  const [repo, dir] = args;
  const ids = JSON.parse(fs.readFileSync(path.join(dir, 'ids.json'), 'utf8'));
  const { child, url } = await startServer(repo, { DATA_DIR: path.join(dir, 'data') });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const base = rssMb(child.pid);
  console.log(`rss at start ${base.toFixed(0)} MB`);
  for (const name of ['small', 'big']) {
    const file = path.join(dir, 'data', 'builds', ids[name], 'events.sse');
    const size = fs.statSync(file).size;
    const streamUrl = `${url}/api/log/push?build=${ids[name]}`;
    const rows = [
      ['valid id (cold)', idNear(file, Math.floor(size / 2))],
      ['valid id (warm)', idNear(file, Math.floor(size / 3))],
      ['made-up id', 'zz-123456789-' + idNear(file, Math.floor(size / 4)).split('-')[2]],
      ['beyond newest', 'zz-1-99999999'],
    ];
    for (const [what, id] of rows) {
      const before = rssMb(child.pid);
      const { ms, first } = await timeToFirstEvent(streamUrl, id);
      console.log(`${name.padEnd(5)} ${what.padEnd(16)} ttfe ${ms.toFixed(1).padStart(7)} ms  first ${first.padEnd(5)}  rss ${before.toFixed(0)} -> ${rssMb(child.pid).toFixed(0)} MB`);
    }
  }
  console.log(`rss growth over all resumes ${(rssMb(child.pid) - base).toFixed(0)} MB`);
  child.kill('SIGTERM');
}
