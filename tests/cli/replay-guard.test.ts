import { ReplayGuard } from '../../src/cli/replay-guard.js';

/** Feeds the guard a stream: numbers are events (by their position in the build), 'reset' is a reset; returns what got through. */
function pass(guard: ReplayGuard, stream: ReadonlyArray<number | 'reset'>): number[] {
  const handed: number[] = [];
  for (const item of stream) {
    if (item === 'reset') guard.reset();
    else if (guard.isNew()) handed.push(item);
  }
  return handed;
}

describe('ReplayGuard', () => {
  it('hands on every event of a stream read in one go', () => {
    expect(pass(new ReplayGuard(), [1, 2, 3, 4])).toEqual([1, 2, 3, 4]);
  });

  it('hands on every event once when a resume continues where the last connection stopped', () => {
    const guard = new ReplayGuard();
    expect(pass(guard, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(pass(guard, [4, 5])).toEqual([4, 5]);
    expect(guard.handedCount).toBe(5);
  });

  it('skips what was handed on already when a reset replays the build from its start', () => {
    const guard = new ReplayGuard();
    expect(pass(guard, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(pass(guard, ['reset', 1, 2, 3, 4, 5])).toEqual([4, 5]);
  });

  it('survives a reset whose replay drops before it gets past the events handed on', () => {
    const guard = new ReplayGuard();
    pass(guard, [1, 2, 3, 4]);
    expect(pass(guard, ['reset', 1, 2])).toEqual([]);
    // The next connection resumes the replay after event 2.
    expect(pass(guard, [3, 4, 5, 6])).toEqual([5, 6]);
  });

  it('handles two resets in a row', () => {
    const guard = new ReplayGuard();
    pass(guard, [1, 2]);
    expect(pass(guard, ['reset', 1, 'reset', 1, 2, 3])).toEqual([3]);
  });
});
