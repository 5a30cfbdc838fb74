import fs from 'node:fs';
import path from 'node:path';
import { isBuildId, type Build, type BuildRecord } from './build-record.js';

const RECORD_FILE = 'build.json';
const HISTORY_FILE = 'events.sse';
/** Folders of deleted builds removed at once, at most (a start-up may delete thousands). */
const REMOVAL_CONCURRENCY = 8;

/** The file operations a BuildStore uses; tests swap in failing ones to play a full disk. */
export interface RecordFileSystem {
  mkdirSync(dir: string): void;
  writeFileSync(file: string, text: string): void;
  renameSync(from: string, to: string): void;
  /** Removes a folder and all it holds. */
  removeDir(dir: string): Promise<void>;
}

export const nodeRecordFileSystem: RecordFileSystem = {
  mkdirSync: (dir) => fs.mkdirSync(dir, { recursive: true }),
  writeFileSync: (file, text) => fs.writeFileSync(file, text),
  renameSync: (from, to) => fs.renameSync(from, to),
  removeDir: (dir) => fs.promises.rm(dir, { recursive: true, force: true }),
};

/**
 * The build records under DATA_DIR/builds/<id>/build.json, all held in memory for listing,
 * each rewritten atomically (temp file, then rename) when its build changes, so a crash
 * leaves either the old or the new record, never half of one. A record the disk refused is
 * written again at the next save of any record and by retryUnsaved() (shutdown, the
 * retention timer), so that once the disk has room again every build is on it as it ended.
 */
export class BuildStore {
  private readonly records = new Map<string, BuildRecord>();
  /** Ids, newest first. */
  private order: string[] = [];
  /** Ids whose last write failed. */
  private readonly unsaved = new Set<string>();
  private readonly removals = new Set<Promise<void>>();
  private readonly removalQueue: string[] = [];

  constructor(
    private readonly dataDir: string,
    private readonly fileSystem: RecordFileSystem = nodeRecordFileSystem,
  ) {}

  get buildsDir(): string {
    return path.join(this.dataDir, 'builds');
  }

  historyFile(id: string): string {
    return path.join(this.buildsDir, id, HISTORY_FILE);
  }

  /**
   * Loads every record; one that cannot be read is reported and skipped. Read synchronously,
   * one after the other: thousands of small files are read faster so than through the
   * threadpool, and start-up has nothing else to do meanwhile.
   */
  load(): { records: BuildRecord[]; problems: string[] } {
    const problems: string[] = [];
    let names: string[];
    try {
      names = fs.readdirSync(this.buildsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`cannot list ${this.buildsDir}: ${message(error)}`);
      names = [];
    }
    for (const id of names) {
      if (!isBuildId(id)) continue;
      const file = path.join(this.buildsDir, id, RECORD_FILE);
      try {
        const record = parseRecord(id, fs.readFileSync(file, 'utf8'));
        this.records.set(id, record);
      } catch (error) {
        problems.push(`skipped build ${id}: ${file} is unreadable (${message(error)})`);
      }
    }
    this.order = [...this.records.values()].sort((a, b) => compareNewestFirst(a.build, b.build)).map((record) => record.build.id);
    return { records: this.order.map((id) => this.records.get(id)!), problems };
  }

  get(id: string): BuildRecord | undefined {
    return this.records.get(id);
  }

  /** Newest first. */
  list(limit: number): BuildRecord[] {
    return this.order.slice(0, limit).map((id) => this.records.get(id)!);
  }

  /** Every build, newest first, without copying the list. */
  *builds(): Generator<Build> {
    for (const id of this.order) yield this.records.get(id)!.build;
  }

  /** Adds a new record (in memory first, so it is listed even if the disk refuses it). */
  add(record: BuildRecord): Error | null {
    this.records.set(record.build.id, record);
    this.order.unshift(record.build.id);
    return this.save(record);
  }

  /**
   * Writes a record to disk, then the ones the disk refused before; returns this record's
   * error instead of throwing, for the caller to report.
   */
  save(record: BuildRecord): Error | null {
    const error = this.write(record);
    if (error) return error;
    this.retryUnsaved();
    return null;
  }

  /** Writes again the records the disk refused; returns the error of the first still refused, if any. */
  retryUnsaved(): Error | null {
    for (const id of [...this.unsaved]) {
      const record = this.records.get(id);
      const error = record ? this.write(record) : null;
      if (error) return error; // the disk is still full: no use trying the others now
      this.unsaved.delete(id);
    }
    return null;
  }

  /** How many records wait for the disk to take them. */
  get unsavedCount(): number {
    return this.unsaved.size;
  }

  /** Forgets builds and removes their folders (record, history: everything) in the background. */
  delete(ids: readonly string[]): void {
    if (ids.length === 0) return;
    const gone = new Set(ids);
    for (const id of ids) {
      this.records.delete(id);
      this.unsaved.delete(id);
    }
    this.order = this.order.filter((id) => !gone.has(id));
    this.removalQueue.push(...ids);
    while (this.removals.size < REMOVAL_CONCURRENCY && this.removalQueue.length > 0) this.startRemoval();
  }

  /** Resolves once every folder deletion started so far is over (shutdown waits for it). */
  async settled(): Promise<void> {
    while (this.removals.size > 0) await Promise.all(this.removals);
  }

  private startRemoval(): void {
    const id = this.removalQueue.shift()!;
    const removal: Promise<void> = this.fileSystem
      .removeDir(path.join(this.buildsDir, id))
      .catch(() => {}) // left for the next start-up's pruning
      .finally(() => {
        this.removals.delete(removal);
        if (this.removalQueue.length > 0) this.startRemoval();
      });
    this.removals.add(removal);
  }

  private write(record: BuildRecord): Error | null {
    const dir = path.join(this.buildsDir, record.build.id);
    const file = path.join(dir, RECORD_FILE);
    const temp = `${file}.tmp`;
    try {
      this.fileSystem.mkdirSync(dir);
      this.fileSystem.writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
      this.fileSystem.renameSync(temp, file);
      this.unsaved.delete(record.build.id);
      return null;
    } catch (error) {
      if (this.records.has(record.build.id)) this.unsaved.add(record.build.id);
      return error as Error;
    }
  }
}

function parseRecord(id: string, text: string): BuildRecord {
  const value = JSON.parse(text) as Partial<BuildRecord>;
  const build = value?.build;
  if (!build || typeof build !== 'object' || build.id !== id || typeof build.status !== 'string' || !Array.isArray(build.steps)) {
    throw new Error('not a build record');
  }
  return {
    // Records written before builds named their worker.
    build: { ...build, worker: typeof build.worker === 'string' ? build.worker : null },
    idempotencyKey: typeof value.idempotencyKey === 'string' ? value.idempotencyKey : null,
    processGroup: Number.isInteger(value.processGroup) && value.processGroup! > 1 ? value.processGroup! : null,
    isHistorySealed: value.isHistorySealed === true,
  };
}

function compareNewestFirst(a: Build, b: Build): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
