import fs from 'node:fs';
import { nodeRecordFileSystem, type RecordFileSystem } from '../../src/builds/build-store.js';
import { nodeHistoryFileSystem, type HistoryFileSystem } from '../../src/events/build-history.js';

const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });

/** History file operations on a disk that takes `budgetBytes` more bytes, then fails every write with ENOSPC. */
export function diskThatFillsAfter(budgetBytes: number): HistoryFileSystem {
  let budget = budgetBytes;
  return {
    ...nodeHistoryFileSystem,
    writeSync(fd, buffer, offset, length, position) {
      if (budget <= 0) throw enospc();
      const take = Math.min(budget, length);
      budget -= take;
      return nodeHistoryFileSystem.writeSync(fd, buffer, offset, take, position);
    },
  };
}

/** A disk that a test fills and frees: while it is full, every write of histories and records fails with ENOSPC. */
export interface SwitchableDisk {
  readonly history: HistoryFileSystem;
  readonly records: RecordFileSystem;
  fill(): void;
  free(): void;
}

export function switchableDisk(): SwitchableDisk {
  let isFull = false;
  return {
    history: {
      ...nodeHistoryFileSystem,
      writeSync(fd, buffer, offset, length, position) {
        if (isFull) throw enospc();
        return nodeHistoryFileSystem.writeSync(fd, buffer, offset, length, position);
      },
    },
    records: {
      ...nodeRecordFileSystem,
      mkdirSync(dir) {
        if (isFull && !fs.existsSync(dir)) throw enospc();
        nodeRecordFileSystem.mkdirSync(dir);
      },
      writeFileSync(file, text) {
        if (isFull) throw enospc();
        nodeRecordFileSystem.writeFileSync(file, text);
      },
    },
    fill: () => {
      isFull = true;
    },
    free: () => {
      isFull = false;
    },
  };
}
