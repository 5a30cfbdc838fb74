import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EVENTS_BESIDES_OUTPUT, writeFinishedBuilds } from '../../bench/harness/data-dir.js';
import { request } from '../helpers/http.js';
import { SseReader } from '../helpers/sse-reader.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

/** Every file under a folder, with the sha256 of its bytes. */
function snapshotFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    files[path.relative(dir, file)] = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return files;
}

describe("the bench's generated DATA_DIR (rows e and g)", () => {
  let dataDir: string;
  let server: TestServer | null = null;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-bench-data-'));
  });

  afterEach(async () => {
    await server?.stop();
    server = null;
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('is taken by the real server as its own: listed, replayed whole and in order, resumed from the middle, left unchanged by start-up', async () => {
    const nowMs = Date.now();
    const [older, newer] = await writeFinishedBuilds(
      dataDir,
      [
        { projectPath: '/srv/projects/a', createdAtMs: nowMs - 120000, events: 40, lineWidth: 30 },
        { projectPath: '/srv/projects/b', createdAtMs: nowMs - 60000, events: 300, lineWidth: 80 },
      ],
      [150],
    );
    const before = snapshotFiles(dataDir);
    server = await startTestServer({ DATA_DIR: dataDir, PROJECTS_ROOT: dataDir, KEEP_BUILDS: '0', KEEP_DAYS: '0' });

    const list = await request(`${server.url}/api/builds`);
    expect(list.json.builds.map((b: { id: string; status: string }) => [b.id, b.status])).toEqual([
      [newer!.id, 'succeeded'],
      [older!.id, 'succeeded'],
    ]);

    const whole = new SseReader(`${server.url}/api/log/push?build=${newer!.id}`);
    await whole.closed;
    expect(whole.events).toHaveLength(300);
    expect(whole.events.map((e) => Number(e.id!.split('-')[2]))).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(whole.events.at(-1)!.event).toBe('end');
    const output = whole.events.filter((e) => e.event === 'log' && e.json.step === 'build' && /^~\d+ /.test(e.json.text));
    expect(output).toHaveLength(300 - EVENTS_BESIDES_OUTPUT);

    const resumed = new SseReader(`${server.url}/api/log/push?build=${newer!.id}`, { 'Last-Event-ID': newer!.idAt.get(150)! });
    await resumed.closed;
    expect(resumed.events[0]!.id).toBe(whole.events[150]!.id);
    expect(resumed.events).toHaveLength(150);

    await server.stop();
    server = null;
    expect(snapshotFiles(dataDir)).toEqual(before);
  });
});
