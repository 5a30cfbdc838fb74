/**
 * Chunks of build histories kept in memory, least recently used first out, within a byte
 * budget. Readers of the same build share them: a hundred clients replaying one build read
 * each chunk from disk once and write slices of the same bytes.
 */
export class HistoryChunkCache {
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  private readonly chunks = new Map<string, Buffer>();
  private bytes = 0;

  constructor(readonly budgetBytes: number) {}

  /** Bytes held now (at most the budget). */
  get sizeBytes(): number {
    return this.bytes;
  }

  get(key: string): Buffer | undefined {
    const chunk = this.chunks.get(key);
    if (chunk) {
      this.chunks.delete(key);
      this.chunks.set(key, chunk);
    }
    return chunk;
  }

  /** Whether a chunk is held, without counting as a use. */
  has(key: string): boolean {
    return this.chunks.has(key);
  }

  delete(key: string): void {
    const chunk = this.chunks.get(key);
    if (!chunk) return;
    this.chunks.delete(key);
    this.bytes -= chunk.length;
  }

  set(key: string, chunk: Buffer): void {
    if (chunk.length > this.budgetBytes) return;
    const existing = this.chunks.get(key);
    if (existing) {
      this.chunks.delete(key);
      this.bytes -= existing.length;
    }
    this.chunks.set(key, chunk);
    this.bytes += chunk.length;
    for (const [oldKey, oldChunk] of this.chunks) {
      if (this.bytes <= this.budgetBytes) break;
      this.chunks.delete(oldKey);
      this.bytes -= oldChunk.length;
    }
  }
}
