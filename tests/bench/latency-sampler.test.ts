import { LatencySampler, LatencySink } from '../../bench/load/latency-sampler.js';
import { benchStream, cutEvery } from '../helpers/bench-stream.js';

describe('LatencySampler', () => {
  it('parses every line of a stream read in odd pieces, in order, with its latency', () => {
    const sink = new LatencySink();
    const sampler = new LatencySampler(sink);
    for (const chunk of cutEvery(benchStream(200), 11)) sampler.push(chunk, 5000n);
    expect([sampler.last, sampler.sequenceErrors, sink.length]).toEqual([200, 0, 200]);
    expect(sink.sorted()[0]).toBeCloseTo((5000 - 1200) / 1e6);
  });

  it('counts a line that the server sent as two events once, without a latency', () => {
    const sink = new LatencySink();
    const sampler = new LatencySampler(sink);
    // The server flushed a partial line (eol:false) in the middle of the stamp of line 3.
    const split = '~3 10","eol":false}\n\nid: x\nevent: log\ndata: {"text":"03 abcdef","eol":true}';
    const text = benchStream(5).toString('latin1').replace('~3 1003 abcdef","eol":true}', split);
    sampler.push(Buffer.from(text, 'latin1'), 5000n);
    expect([sampler.last, sampler.sequenceErrors, sink.length]).toEqual([5, 0, 4]);
  });

  it('counts a line that skips a number as out of order', () => {
    const sampler = new LatencySampler(new LatencySink());
    const text = benchStream(5).toString('latin1').replace('~3 1003', '~4 1003');
    sampler.push(Buffer.from(text, 'latin1'), 5000n);
    expect(sampler.sequenceErrors).toBe(2);
  });
});
