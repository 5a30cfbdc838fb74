import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { newBuild, type BuildRecord } from '../../src/builds/build-record.js';
import { BuildStore } from '../../src/builds/build-store.js';
import { switchableDisk } from '../helpers/full-disk.js';

describe('BuildStore', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-store-'));
  });

  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  const record = (id: string, at: number): BuildRecord => ({ build: newBuild(id, '/projects/a', new Date(at)), idempotencyKey: null });
  const stored = (id: string) => JSON.parse(fs.readFileSync(path.join(dataDir, 'builds', id, 'build.json'), 'utf8')).build;

  it('keeps a record the disk refused in memory, and writes it with the next record once the disk has room', () => {
    const disk = switchableDisk();
    const store = new BuildStore(dataDir, disk.records);
    const refused = record('00000000000aaaaaa', 1);
    disk.fill();
    expect(store.add(refused)?.message).toMatch(/ENOSPC/);
    refused.build.status = 'failed';
    expect(store.save(refused)).not.toBeNull();
    expect(store.list(10).map((r) => r.build.id)).toEqual([refused.build.id]);
    expect(store.unsavedCount).toBe(1);

    disk.free();
    expect(store.add(record('00000000001bbbbbb', 2))).toBeNull();
    expect(stored(refused.build.id).status).toBe('failed');
    expect(store.unsavedCount).toBe(0);
  });

  it('retryUnsaved() reports a disk that is still full, and writes once it is not', () => {
    const disk = switchableDisk();
    const store = new BuildStore(dataDir, disk.records);
    disk.fill();
    store.add(record('00000000000aaaaaa', 1));
    expect(store.retryUnsaved()?.message).toMatch(/ENOSPC/);
    disk.free();
    expect(store.retryUnsaved()).toBeNull();
    expect(stored('00000000000aaaaaa').status).toBe('queued');
  });

  it('deletes builds from memory at once and their folders in the background', async () => {
    const store = new BuildStore(dataDir);
    for (let i = 0; i < 20; i += 1) store.add(record(`0000000000${String(i).padStart(2, '0')}aaaaa`, i));
    const doomed = store.list(100).slice(5).map((r) => r.build.id);
    store.delete(doomed);
    expect(store.list(100).map((r) => r.build.id)).toHaveLength(5);
    expect(store.get(doomed[0]!)).toBeUndefined();
    await store.settled();
    expect(fs.readdirSync(store.buildsDir).sort()).toEqual(store.list(100).map((r) => r.build.id).sort());
  });

  it('loads what it wrote, newest first, and reports a record it cannot read', () => {
    const first = new BuildStore(dataDir);
    first.add(record('00000000000aaaaaa', 1));
    first.add(record('00000000001bbbbbb', 2));
    fs.mkdirSync(path.join(first.buildsDir, '00000000002cccccc'));
    fs.writeFileSync(path.join(first.buildsDir, '00000000002cccccc', 'build.json'), '{ torn');
    const second = new BuildStore(dataDir);
    const { records, problems } = second.load();
    expect(records.map((r) => r.build.id)).toEqual(['00000000001bbbbbb', '00000000000aaaaaa']);
    expect(problems).toEqual([expect.stringMatching(/^skipped build 00000000002cccccc: .* is unreadable/)]);
  });
});
