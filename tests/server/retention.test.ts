import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeProjectsRoot, type ProjectsRoot } from '../helpers/projects.js';
import { request, startBuild, waitForBuild, waitForEnd } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { waitFor } from '../helpers/wait.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('retention (KEEP_BUILDS, KEEP_DAYS)', () => {
  let projects: ProjectsRoot;
  let dataDir: string;
  let server: TestServer | undefined;

  beforeEach(() => {
    projects = makeProjectsRoot();
    projects.copy('failing', 'other');
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-retention-'));
  });

  afterEach(async () => {
    await server?.stop();
    server = undefined;
    projects.remove();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>) => {
    server = await startTestServer({ PROJECTS_ROOT: projects.root, DATA_DIR: dataDir, KEEP_BUILDS: '0', KEEP_DAYS: '0', ...env });
    return server;
  };
  const runBuild = async (target: TestServer, project: string) => {
    const build = await startBuild(target.url, project);
    await waitForEnd(target.url, build.id);
    return build.id as string;
  };
  const folderOf = (id: string) => path.join(dataDir, 'builds', id);
  const listed = async (target: TestServer) => (await request(`${target.url}/api/builds`)).json.builds.map((b: { id: string }) => b.id);

  /** Every route of a deleted build answers 404 build_not_found, and its folder is gone. */
  async function expectDeleted(target: TestServer, id: string): Promise<void> {
    for (const route of [`/api/builds/${id}`, `/api/builds/${id}/log`, `/api/log/push?build=${id}`]) {
      const response = await request(`${target.url}${route}`);
      expect([route, response.status, response.json?.error?.code]).toEqual([route, 404, 'build_not_found']);
    }
    const cancelled = await request(`${target.url}/api/builds/${id}/cancel`, { method: 'POST' });
    expect(cancelled.status).toBe(404);
    await waitFor(() => !fs.existsSync(folderOf(id)), `the folder of build ${id} to be removed`);
  }

  it('keeps the KEEP_BUILDS newest finished builds of each project, deleting the others as builds end', async () => {
    const target = await start({ KEEP_BUILDS: '2' });
    const ours = [];
    for (let i = 0; i < 4; i += 1) ours.push(await runBuild(target, 'failing'));
    const theirs = await runBuild(target, 'other');

    expect(await listed(target)).toEqual([theirs, ours[3], ours[2]]);
    for (const id of ours.slice(0, 2)) await expectDeleted(target, id);
    for (const id of [theirs, ours[3]!, ours[2]!]) {
      expect((await request(`${target.url}/api/builds/${id}`)).status).toBe(200);
      expect(fs.existsSync(path.join(folderOf(id), 'events.sse'))).toBe(true);
    }
  }, 60000);

  it('deletes at start-up what the new limits no longer keep', async () => {
    const first = await start({});
    const ours = [];
    for (let i = 0; i < 3; i += 1) ours.push(await runBuild(first, 'failing'));
    const theirs = await runBuild(first, 'other');
    await first.stop();

    const second = await start({ KEEP_BUILDS: '1' });
    expect(await listed(second)).toEqual([theirs, ours[2]]);
    for (const id of ours.slice(0, 2)) await expectDeleted(second, id);
  }, 60000);

  it('deletes finished builds older than KEEP_DAYS, at start-up', async () => {
    const first = await start({});
    const old = await runBuild(first, 'failing');
    const recent = await runBuild(first, 'other');
    await first.stop();
    const file = path.join(folderOf(old), 'build.json');
    const record = JSON.parse(fs.readFileSync(file, 'utf8'));
    record.build.createdAt = new Date(Date.now() - 40 * DAY_MS).toISOString();
    record.build.finishedAt = new Date(Date.now() - 40 * DAY_MS + 5000).toISOString();
    fs.writeFileSync(file, JSON.stringify(record));

    const second = await start({ KEEP_DAYS: '30' });
    expect(await listed(second)).toEqual([recent]);
    await expectDeleted(second, old);
  }, 60000);

  it('never deletes a running build, nor one whose newer builds are still running', async () => {
    projects.configure('slow', { seconds: 0 });
    const target = await start({ KEEP_BUILDS: '1' });
    const finished = await runBuild(target, 'slow');
    projects.configure('slow', { seconds: 60 });
    const running = await startBuild(target.url, 'slow');
    await waitForBuild(target.url, running.id, (b) => b.steps[1].status === 'running');
    await runBuild(target, 'failing'); // a build that ends prunes
    expect(await listed(target)).toEqual(expect.arrayContaining([finished, running.id]));

    const stream = new SseReader(`${target.url}${running.streamUrl}`);
    await request(`${target.url}/api/builds/${running.id}/cancel`, { method: 'POST' });
    await stream.closed;
    expect(stream.events.at(-1)!.event).toBe('end');
    await expectDeleted(target, finished);
    expect((await request(`${target.url}/api/builds/${running.id}`)).json.status).toBe('cancelled');
  }, 60000);
});
