import { nodeHistoryFileSystem, type HistoryFileSystem } from '../../src/events/build-history.js';

/** History file operations on a disk that takes `budgetBytes` more bytes, then fails every write with ENOSPC. */
export function diskThatFillsAfter(budgetBytes: number): HistoryFileSystem {
  let budget = budgetBytes;
  return {
    ...nodeHistoryFileSystem,
    writeSync(fd, buffer, offset, length, position) {
      if (budget <= 0) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      const take = Math.min(budget, length);
      budget -= take;
      return nodeHistoryFileSystem.writeSync(fd, buffer, offset, take, position);
    },
  };
}
