import fs from 'node:fs';
import path from 'node:path';
import { isBuildId, type Build, type BuildRecord } from './build-record.js';

const RECORD_FILE = 'build.json';
const HISTORY_FILE = 'events.sse';

/**
 * The build records under DATA_DIR/builds/<id>/build.json, all held in memory for listing,
 * each rewritten atomically (temp file, then rename) when its build changes, so a crash
 * leaves either the old or the new record, never half of one.
 */
export class BuildStore {
  private readonly records = new Map<string, BuildRecord>();
  /** Ids, newest first. */
  private order: string[] = [];

  constructor(private readonly dataDir: string) {}

  get buildsDir(): string {
    return path.join(this.dataDir, 'builds');
  }

  historyFile(id: string): string {
    return path.join(this.buildsDir, id, HISTORY_FILE);
  }

  /** Loads every record; one that cannot be read is reported and skipped. */
  async load(): Promise<{ records: BuildRecord[]; problems: string[] }> {
    const problems: string[] = [];
    let names: string[];
    try {
      names = await fs.promises.readdir(this.buildsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') problems.push(`cannot list ${this.buildsDir}: ${message(error)}`);
      names = [];
    }
    const loaded = await Promise.all(
      names.filter(isBuildId).map(async (id) => {
        const file = path.join(this.buildsDir, id, RECORD_FILE);
        try {
          return parseRecord(id, await fs.promises.readFile(file, 'utf8'));
        } catch (error) {
          problems.push(`skipped build ${id}: ${file} is unreadable (${message(error)})`);
          return null;
        }
      }),
    );
    for (const record of loaded) if (record) this.records.set(record.build.id, record);
    this.order = [...this.records.values()]
      .sort((a, b) => compareNewestFirst(a.build, b.build))
      .map((record) => record.build.id);
    return { records: this.order.map((id) => this.records.get(id)!), problems };
  }

  get(id: string): BuildRecord | undefined {
    return this.records.get(id);
  }

  /** Newest first. */
  list(limit: number): BuildRecord[] {
    return this.order.slice(0, limit).map((id) => this.records.get(id)!);
  }

  /** Adds a new record (in memory first, so it is listed even if the disk refuses it). */
  add(record: BuildRecord): Error | null {
    this.records.set(record.build.id, record);
    this.order.unshift(record.build.id);
    return this.save(record);
  }

  /** Writes a record to disk; returns the error instead of throwing, for the caller to report. */
  save(record: BuildRecord): Error | null {
    const dir = path.join(this.buildsDir, record.build.id);
    const file = path.join(dir, RECORD_FILE);
    const temp = `${file}.tmp`;
    try {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
      fs.renameSync(temp, file);
      return null;
    } catch (error) {
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
    build,
    idempotencyKey: typeof value.idempotencyKey === 'string' ? value.idempotencyKey : null,
    processGroup: Number.isInteger(value.processGroup) && value.processGroup! > 1 ? value.processGroup! : null,
  };
}

function compareNewestFirst(a: Build, b: Build): number {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? 1 : -1;
  return a.id < b.id ? 1 : -1;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
