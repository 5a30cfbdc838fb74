import { SequenceCounter } from '../../bench/load/sequence-counter.js';
import { benchStream, cutEvery } from '../helpers/bench-stream.js';

describe('SequenceCounter', () => {
  it.each([1, 2, 3, 7, 13, 50, 97, 4096])('counts every line of a stream read %i bytes at a time', (step) => {
    const counter = new SequenceCounter();
    for (const chunk of cutEvery(benchStream(300), step)) counter.push(chunk);
    expect(counter.last).toBe(300);
  });

  it('counts a last line whose number is split between two reads', () => {
    const data = benchStream(12);
    const at = data.indexOf('~12 ') + 2;
    const counter = new SequenceCounter();
    counter.push(data.subarray(0, at));
    expect(counter.last).toBe(11);
    counter.push(data.subarray(at));
    expect(counter.last).toBe(12);
  });
});
