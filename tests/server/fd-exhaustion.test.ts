import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { spawnServer, type ServerProcess } from '../helpers/server-process.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** One request over the given agent (a single kept-alive connection: no new one is accepted while descriptors are short). */
function call(agent: http.Agent, url: string, method = 'GET', body?: unknown): Promise<{ status: number; text: string; json: Json }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const request = http.request(url, { method, agent, headers: payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {} });
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode!, text, json });
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

/** The soft limit on open files that leaves a process exactly `free` descriptors to open. */
function limitLeaving(pid: number, free: number): number {
  const open = fs.readdirSync(`/proc/${pid}/fd`).map(Number);
  for (let limit = 1; ; limit += 1) if (limit - open.filter((fd) => fd < limit).length === free) return limit;
}

function setOpenFilesLimit(pid: number, soft: number | string): void {
  execFileSync('prlimit', ['--pid', String(pid), `--nofile=${soft}:`]);
}

function softOpenFilesLimit(pid: number): string {
  const line = fs.readFileSync(`/proc/${pid}/limits`, 'utf8').split('\n').find((l) => l.startsWith('Max open files'))!;
  return line.split(/\s{2,}/)[1]!;
}

describe('a server out of file descriptors (a real process under a lowered RLIMIT_NOFILE)', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(() => {
    projects = makeProjectsRoot();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-emfile-'));
  });

  afterAll(() => {
    server?.killAll();
    projects?.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it.each([
    [3, 'the spawn', /^Could not run yarn install: the server has no file descriptor left to start it with \(EMFILE\)/],
    [1, 'its record', /^Build failed .*: DATA_DIR refused a write \(EMFILE: too many open files/],
  ])('with %i descriptor(s) left, a build fails at %s with a system line saying why, and the server lives on', async (free, _where, reason) => {
    server ??= await spawnServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
    const { url, serverPid } = server;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await call(agent, `${url}/healthz`)).status).toBe(200); // opens the one connection
      const original = softOpenFilesLimit(serverPid);
      setOpenFilesLimit(serverPid, limitLeaving(serverPid, free));
      let build;
      try {
        const posted = await call(agent, `${url}/api/project/build`, 'POST', { projectPath: 'failing' });
        expect(posted.status).toBe(202);
        for (;;) {
          build = (await call(agent, `${url}/api/builds/${posted.json.build.id}`)).json;
          if (!['queued', 'running'].includes(build.status)) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        setOpenFilesLimit(serverPid, original);
      }
      expect(build.status).toBe('failed');
      const log = (await call(agent, `${url}${build.logUrl}`)).text;
      const system = log.split('\n').filter((l) => l.includes('] [system] ')).map((l) => l.slice(l.indexOf('] [system] ') + 11));
      expect(system).toContainEqual(expect.stringMatching(reason));

      // Descriptors are back: builds run again.
      const next = await call(agent, `${url}/api/project/build`, 'POST', { projectPath: 'failing' });
      expect(next.status).toBe(202);
      let done;
      do {
        await new Promise((resolve) => setTimeout(resolve, 100));
        done = (await call(agent, `${url}/api/builds/${next.json.build.id}`)).json;
      } while (['queued', 'running'].includes(done.status));
      expect([done.status, done.exitCode]).toEqual(['failed', 3]); // the fixture's own failure: it ran
    } finally {
      agent.destroy();
    }
    expect(server.child.exitCode).toBeNull();
  }, 60000);

  it('with none left, a POST that cannot even read the project\'s package.json gets 503, not not_a_project', async () => {
    server ??= await spawnServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir });
    const { url, serverPid } = server;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await call(agent, `${url}/healthz`)).status).toBe(200);
      const original = softOpenFilesLimit(serverPid);
      setOpenFilesLimit(serverPid, limitLeaving(serverPid, 0));
      let posted;
      try {
        posted = await call(agent, `${url}/api/project/build`, 'POST', { projectPath: 'failing' });
      } finally {
        setOpenFilesLimit(serverPid, original);
      }
      expect([posted.status, posted.json.error.code]).toEqual([503, 'out_of_file_descriptors']);
    } finally {
      agent.destroy();
    }
  }, 60000);
});
