import { CLUMP_GAP_MS, MIN_SILENCE_MS, judgeHeartbeats } from '../../../src/cli/doctor/heartbeat-judge.js';

describe('judgeHeartbeats', () => {
  it('finds nothing to judge without a heartbeat', () => expect(judgeHeartbeats([], 5)).toEqual({ kind: 'none' }));

  it('cannot time a single heartbeat', () => expect(judgeHeartbeats([15005], 5)).toEqual({ kind: 'single' }));

  it('calls heartbeats one by one steady, with the median gap as their interval', () =>
    expect(judgeHeartbeats([9000, 24000, 39001, 54003], 5)).toEqual({ kind: 'steady', intervalMs: 15001, count: 4 }));

  it('takes the median, so one late heartbeat does not skew the interval', () =>
    expect(judgeHeartbeats([300, 600, 1400, 1700, 2000], 0)).toMatchObject({ kind: 'steady', intervalMs: 300 }));

  it('calls several heartbeats arriving together after a silence a clump', () =>
    expect(judgeHeartbeats([4000, 4000, 4001, 4002], 3)).toEqual({ kind: 'clumped', size: 4, silenceMs: 3997 }));

  it('sees a clump after a silence between heartbeats too, and reports the biggest', () =>
    expect(judgeHeartbeats([300, 2400, 2401, 2401, 4500, 4501], 0)).toEqual({ kind: 'clumped', size: 3, silenceMs: 2100 }));

  it(`counts heartbeats up to ${CLUMP_GAP_MS} ms apart as arriving together`, () => {
    expect(judgeHeartbeats([1000, 1000 + CLUMP_GAP_MS], 0)).toMatchObject({ kind: 'clumped', size: 2 });
    expect(judgeHeartbeats([1000, 1001 + CLUMP_GAP_MS], 0)).toMatchObject({ kind: 'steady' });
  });

  it(`needs a silence of ${MIN_SILENCE_MS} ms before a clump, so quick heartbeats that bunch up a little are steady`, () =>
    expect(judgeHeartbeats([15, 30, 40, 55], 0)).toMatchObject({ kind: 'steady' }));
});
