import type { Redis } from 'ioredis';

/** Frames per chunk: chunk k holds frames k × CHUNK_FRAMES + 1 … (k + 1) × CHUNK_FRAMES of a build. */
export const CHUNK_FRAMES = 1024;
/** Memory for chunks shared by the readers of one API process. */
export const CHUNK_CACHE_BYTES = 32 << 20;

/** A whole chunk: its frames back to back, and where each ends. */
export interface FrameChunk {
  readonly data: Buffer;
  /** ends[i]: the byte just after frame i of the chunk. */
  readonly ends: readonly number[];
}

/**
 * Whole chunks of build histories read from Redis once and shared by every reader of this
 * process: a hundred clients replaying a finished build cost Redis one read of each chunk,
 * not a hundred. A chunk is kept only once it is full; frames never change once written, so a
 * full chunk never goes stale. Least recently used chunks go first past CHUNK_CACHE_BYTES.
 */
export class FrameChunkCache {
  private readonly chunks = new Map<string, FrameChunk>();
  private readonly loading = new Map<string, Promise<FrameChunk | null>>();
  private bytes = 0;

  constructor(
    private readonly redis: Redis,
    private readonly maxBytes = CHUNK_CACHE_BYTES,
  ) {}

  /** Chunk `index` of a list of frames, when it is full; null when it is not (yet). */
  async fullChunk(listKey: string, index: number): Promise<FrameChunk | null> {
    const key = `${listKey}#${index}`;
    const cached = this.chunks.get(key);
    if (cached) {
      this.chunks.delete(key);
      this.chunks.set(key, cached);
      return cached;
    }
    let load = this.loading.get(key);
    if (!load) {
      load = this.load(listKey, index).then((chunk) => {
        if (chunk) this.keep(key, chunk);
        return chunk;
      });
      this.loading.set(key, load);
      void load.finally(() => this.loading.delete(key)).catch(() => {});
    }
    return load;
  }

  private async load(listKey: string, index: number): Promise<FrameChunk | null> {
    const start = index * CHUNK_FRAMES;
    const frames = await this.redis.lrangeBuffer(listKey, start, start + CHUNK_FRAMES - 1);
    if (frames.length < CHUNK_FRAMES) return null;
    const ends: number[] = [];
    let end = 0;
    for (const frame of frames) {
      end += frame.length;
      ends.push(end);
    }
    return { data: Buffer.concat(frames, end), ends };
  }

  private keep(key: string, chunk: FrameChunk): void {
    if (chunk.data.length > this.maxBytes) return;
    this.chunks.set(key, chunk);
    this.bytes += chunk.data.length;
    for (const [oldest, old] of this.chunks) {
      if (this.bytes <= this.maxBytes) break;
      this.chunks.delete(oldest);
      this.bytes -= old.data.length;
    }
  }
}

/** Frames `first` … of a chunk (0-based within it) up to about maxBytes (at least one), zero-copy. */
export function sliceChunk(chunk: FrameChunk, first: number, maxBytes: number): { data: Buffer; frames: number } {
  const startByte = first === 0 ? 0 : chunk.ends[first - 1]!;
  let last = first;
  while (last + 1 < chunk.ends.length && chunk.ends[last + 1]! - startByte <= maxBytes) last += 1;
  return { data: chunk.data.subarray(startByte, chunk.ends[last]!), frames: last - first + 1 };
}
