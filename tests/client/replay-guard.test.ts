import { ReplayGuard, type FollowEvent } from '../../src/client/build-log-client.js';

/** A `log` event of a build with an id; the text is what the assertions read back. */
function logEvent(id: string, build = 'b1'): FollowEvent {
  return { name: 'log', id, data: { build, step: 'build', stream: 'stdout', time: '2026-01-02 03:04:05.678', ts: 0, text: id, eol: true } };
}

/** Feeds the guard a stream: ids are events, 'reset' is a reset; returns the ids that got through. */
function pass(guard: ReplayGuard, stream: ReadonlyArray<FollowEvent | 'reset'>): string[] {
  const handed: string[] = [];
  for (const item of stream) {
    if (item === 'reset') guard.reset();
    else if (guard.isNew(item)) handed.push(item.id!);
  }
  return handed;
}

/** Events of build b1 numbered from..to, with opaque ids (e1, e2, ...) as another server may send. */
const opaque = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => logEvent(`e${from + i}`));
/** Events of a build numbered from..to, with our ids `<boot>-<g>-<n>` (the global number is made up). */
const ours = (from: number, to: number, build = 'b1', boot = 'k1') => Array.from({ length: to - from + 1 }, (_, i) => logEvent(`${boot}-${500 + from + i}-${from + i}`, build));

describe('ReplayGuard', () => {
  describe('with opaque ids: counting the events of a ?build= stream', () => {
    it('hands on every event once when a resume continues where the last connection stopped', () => {
      const guard = new ReplayGuard();
      expect(pass(guard, opaque(1, 3))).toEqual(['e1', 'e2', 'e3']);
      expect(pass(guard, opaque(4, 5))).toEqual(['e4', 'e5']);
    });

    it('skips what was handed on already when a reset replays the build from its start', () => {
      const guard = new ReplayGuard();
      pass(guard, opaque(1, 3));
      expect(pass(guard, ['reset', ...opaque(1, 5)])).toEqual(['e4', 'e5']);
    });

    it('survives a reset whose replay drops before it gets past the events handed on', () => {
      const guard = new ReplayGuard();
      pass(guard, opaque(1, 4));
      expect(pass(guard, ['reset', ...opaque(1, 2)])).toEqual([]);
      expect(pass(guard, opaque(3, 6))).toEqual(['e5', 'e6']);
    });

    it('handles two resets in a row', () => {
      const guard = new ReplayGuard();
      pass(guard, opaque(1, 2));
      expect(pass(guard, ['reset', ...opaque(1, 1), 'reset', ...opaque(1, 3)])).toEqual(['e3']);
    });
  });

  describe("with the server's ids: by each build's event number", () => {
    it('skips a replay after a reset, also one from a restarted server (another boot)', () => {
      const guard = new ReplayGuard();
      expect(pass(guard, ours(1, 3)).length).toBe(3);
      expect(pass(guard, ['reset', ...ours(1, 5, 'b1', 'k2')])).toEqual(['k2-504-4', 'k2-505-5']);
    });

    it('keeps builds apart on the global stream, where a reset replays only the kept history', () => {
      const guard = new ReplayGuard();
      pass(guard, [...ours(1, 2, 'b1'), ...ours(1, 1, 'b2'), ...ours(3, 3, 'b1')]);
      // The kept history starts in the middle: b1's 2 and 3 and b2's 1 were handed on already.
      const replay = ['reset' as const, ...ours(2, 4, 'b1'), ...ours(1, 2, 'b2')];
      expect(pass(guard, replay)).toEqual(['k1-504-4', 'k1-502-2']);
    });

    it('skips, after resumeAfter, the events of that build up to its id, also when replayed by another boot', () => {
      const guard = new ReplayGuard();
      guard.resumeAfter('b1', 'k1-503-3');
      guard.resumeAfter('b2', 'not-one-of-ours');
      expect(pass(guard, ['reset', ...ours(1, 5, 'b1', 'k2')])).toEqual(['k2-504-4', 'k2-505-5']);
      expect(pass(guard, ours(1, 1, 'b2'))).toEqual(['k1-501-1']);
    });

    it('reads the number of build and end events from their build', () => {
      const guard = new ReplayGuard();
      const build = { id: 'b1', status: 'running' } as never;
      expect(guard.isNew({ name: 'build', id: 'k1-9-1', data: { build } })).toBe(true);
      expect(guard.isNew({ name: 'build', id: 'k1-9-1', data: { build } })).toBe(false);
      expect(guard.isNew({ name: 'end', id: 'k1-10-2', data: { build } })).toBe(true);
    });
  });
});
