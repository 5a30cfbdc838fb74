import type { WorkerInfo, WorkerStatus } from '../builds/worker-info.js';
import type { ClusterStore } from './cluster-store.js';

/** A worker's heartbeat as kept in Redis: what GET /api/workers lists, plus a beat counter. */
export interface WorkerBeat extends WorkerInfo {
  /** Counts the worker's heartbeats: the judge of lost workers watches it change, not the clocks. */
  readonly beat: number;
}

/** The contract: a lost worker stays listed this many times WORKER_LOST_MS after it was last seen. */
export const LOST_LISTED_FACTOR = 10;

export async function readBeats(store: ClusterStore): Promise<Map<string, WorkerBeat>> {
  const raw = await store.redis.hgetall(store.keys.workers);
  const beats = new Map<string, WorkerBeat>();
  for (const [name, json] of Object.entries(raw)) {
    try {
      beats.set(name, JSON.parse(json) as WorkerBeat);
    } catch {
      // A value that is not ours is not a worker.
    }
  }
  return beats;
}

export async function writeBeat(store: ClusterStore, beat: WorkerBeat, freeSlots: number): Promise<void> {
  await store.redis.multi().hset(store.keys.workers, beat.name, JSON.stringify(beat)).hset(store.keys.freeSlots, beat.name, String(freeSlots)).exec();
}

export async function markLost(store: ClusterStore, beat: WorkerBeat): Promise<void> {
  const lost: WorkerBeat = { ...beat, status: 'lost' satisfies WorkerStatus, builds: [] };
  await store.redis.multi().hset(store.keys.workers, beat.name, JSON.stringify(lost)).hdel(store.keys.freeSlots, beat.name).exec();
}

export async function removeWorker(store: ClusterStore, name: string): Promise<void> {
  await store.redis.multi().hdel(store.keys.workers, name).hdel(store.keys.freeSlots, name).exec();
}

/** The workers GET /api/workers lists: lost ones only for LOST_LISTED_FACTOR × WORKER_LOST_MS. */
export async function readWorkers(store: ClusterStore, workerLostMs: number, nowMs: number): Promise<WorkerInfo[]> {
  const workers: WorkerInfo[] = [];
  for (const { beat: _beat, ...info } of (await readBeats(store)).values()) {
    if (info.status === 'lost' && nowMs - Date.parse(info.lastSeenAt) > workerLostMs * LOST_LISTED_FACTOR) continue;
    workers.push(info);
  }
  return workers.sort((a, b) => a.name.localeCompare(b.name));
}
