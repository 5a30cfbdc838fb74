import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { verdictLine } from '../../src/builds/build-service.js';
import { newBuild, newBuildId, snapshot, type Build, type BuildRecord, type StepName } from '../../src/builds/build-record.js';
import { BuildStore } from '../../src/builds/build-store.js';
import { formatLogTime } from '../../src/builds/format-time.js';
import type { EventDataByName } from '../../src/events/event-data.js';
import type { StreamEventName } from '../../src/events/event-log.js';
import { LocalEventLog } from '../../src/events/local-event-log.js';
import { silentLogger } from '../../src/logger.js';
import { encodeFrame } from '../../src/sse/encode-frame.js';
import { onExit } from './exit-cleanup.js';

/** One finished build to write. */
export interface FinishedBuildSpec {
  readonly projectPath: string;
  readonly createdAtMs: number;
  /** Every event of its history (build, log and end): the output lines are what the rest leaves. */
  readonly events: number;
  /** Characters of each output line. */
  readonly lineWidth: number;
}

/** A build as written: its id, and the ids of the events asked for (by position in the build). */
export interface WrittenBuild {
  readonly id: string;
  readonly events: number;
  readonly idAt: ReadonlyMap<number, string>;
}

// What yarn prints around the fixture's lines, so that a generated log reads like a real one.
const INSTALL_OUTPUT = ['yarn install v1.22.22', 'info No lockfile found.', '[1/4] Resolving packages...', '[2/4] Fetching packages...', '[3/4] Linking dependencies...', '[4/4] Building fresh packages...', 'success Saved lockfile.', 'Done in 0.05s.'];
const BUILD_HEADER = ['yarn run v1.22.22', '$ node build.js'];
const BUILD_FOOTER = ['Done in 1.00s.'];
/** Events of a build besides its output lines: queued and running, three per step, the yarn lines, verdict, final build, end. */
export const EVENTS_BESIDES_OUTPUT = 2 + 2 * 3 + INSTALL_OUTPUT.length + BUILD_HEADER.length + BUILD_FOOTER.length + 3;
const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Events queued before each flush (the server flushes once a tick; this is only the writer's pace). */
const FLUSH_EVERY = 5000;

/**
 * Writes finished (succeeded) builds into DATA_DIR exactly as the server would have: the
 * record through the server's own BuildStore, the history through its own LocalEventLog
 * (its event ids, its frames, its files), with the events BuildService emits for a build
 * (`build` at each change, `$ yarn ...` and the verdict on the system stream, `end`).
 * Much faster than running a million-line build through yarn, and byte for byte the same format.
 */
export async function writeFinishedBuilds(dataDir: string, specs: readonly FinishedBuildSpec[], keepIdsAt: readonly number[] = []): Promise<WrittenBuild[]> {
  const store = new BuildStore(dataDir);
  const eventLog = new LocalEventLog({ historyFile: (id) => store.historyFile(id), encodeFrame, logger: silentLogger(), historyCacheBytes: 0 });
  const usedIds = new Set<string>();
  const written: WrittenBuild[] = [];
  try {
    for (const spec of specs) {
      let id = newBuildId(spec.createdAtMs);
      while (usedIds.has(id)) id = newBuildId(spec.createdAtMs);
      usedIds.add(id);
      written.push(writeBuild(store, eventLog, id, spec, keepIdsAt));
    }
  } finally {
    eventLog.close();
  }
  return written;
}

function writeBuild(store: BuildStore, eventLog: LocalEventLog, id: string, spec: FinishedBuildSpec, keepIdsAt: readonly number[]): WrittenBuild {
  const outputLines = spec.events - EVENTS_BESIDES_OUTPUT;
  if (outputLines < 0) throw new Error(`a build has at least ${EVENTS_BESIDES_OUTPUT} events`);
  const record: BuildRecord = { build: newBuild(id, spec.projectPath, new Date(spec.createdAtMs)), idempotencyKey: null, processGroup: null };
  const { build } = record;
  fs.mkdirSync(path.dirname(store.historyFile(id)), { recursive: true });
  eventLog.createBuild(id);
  const idAt = new Map<number, string>();
  let position = 0;
  let nowMs = spec.createdAtMs;
  const append = <E extends StreamEventName>(event: E, data: EventDataByName[E]) => {
    position += 1;
    const eventId = eventLog.append<E>({ buildId: id, event, data });
    if (keepIdsAt.includes(position)) idAt.set(position, eventId);
    if (position % FLUSH_EVERY === 0) eventLog.flush();
  };
  const emitBuild = () => append('build', { build: snapshot(build) });
  const emitLine = (step: StepName | null, stream: 'stdout' | 'system', text: string) =>
    append('log', { build: id, step, stream, time: formatLogTime(nowMs), ts: nowMs, text, eol: true });

  emitBuild();
  nowMs += 5;
  build.status = 'running';
  build.startedAt = new Date(nowMs).toISOString();
  emitBuild();
  for (const step of build.steps) {
    step.status = 'running';
    step.startedAt = new Date(nowMs).toISOString();
    emitBuild();
    emitLine(step.name, 'system', `$ ${step.command}`);
    if (step.name === 'install') for (const line of INSTALL_OUTPUT) emitLine('install', 'stdout', line);
    else {
      const filler = FILLER.repeat(Math.ceil(spec.lineWidth / FILLER.length));
      for (const line of BUILD_HEADER) emitLine('build', 'stdout', line);
      for (let seq = 1; seq <= outputLines; seq += 1) {
        // About 1,000 lines per ms, the pace of a fast build.
        if (seq % 1000 === 0) nowMs += 1;
        const head = `~${seq} ${nowMs * 1e6} `;
        emitLine('build', 'stdout', head + filler.slice(0, Math.max(0, spec.lineWidth - head.length)));
      }
      for (const line of BUILD_FOOTER) emitLine('build', 'stdout', line);
    }
    nowMs += 50;
    step.status = 'succeeded';
    step.exitCode = 0;
    step.finishedAt = new Date(nowMs).toISOString();
    emitBuild();
  }
  build.status = 'succeeded';
  build.exitCode = 0;
  build.finishedAt = new Date(nowMs).toISOString();
  build.durationMs = nowMs - Date.parse(build.startedAt);
  emitLine(null, 'system', verdictLine(build as Build, null));
  emitBuild();
  append('end', { build: snapshot(build) });
  eventLog.flush();
  // What the server records once a build's `end` is on disk: start-up then skips its history.
  record.isHistorySealed = true;
  const error = store.add(record);
  if (error) throw error;
  return { id, events: position, idAt };
}

/** A temporary DATA_DIR, removed when the bench exits (or by the returned function). */
export function tempDataDir(name: string): { dir: string; remove: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `buildlog-bench-${name}-`));
  return { dir, remove: onExit(() => fs.rmSync(dir, { recursive: true, force: true })) };
}
