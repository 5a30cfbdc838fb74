import { sliceChunk, type FrameChunk } from '../../src/cluster/frame-chunk-cache.js';

function chunkOf(frames: string[]): FrameChunk {
  const ends: number[] = [];
  let end = 0;
  for (const frame of frames) ends.push((end += Buffer.byteLength(frame)));
  return { data: Buffer.from(frames.join('')), ends };
}

describe('sliceChunk', () => {
  const chunk = chunkOf(['aa', 'bbb', 'c', 'dddd']);

  it('takes whole frames from the first one asked for, up to the byte budget', () => {
    expect(sliceChunk(chunk, 0, 5)).toEqual({ data: Buffer.from('aabbb'), frames: 2 });
    expect(sliceChunk(chunk, 1, 4)).toEqual({ data: Buffer.from('bbbc'), frames: 2 });
    expect(sliceChunk(chunk, 2, 100)).toEqual({ data: Buffer.from('cdddd'), frames: 2 });
  });

  it('takes one frame even when it alone is over the budget, so a reader always moves on', () => {
    expect(sliceChunk(chunk, 3, 1)).toEqual({ data: Buffer.from('dddd'), frames: 1 });
  });

  it('shares the chunk\'s memory instead of copying it', () => {
    const { data } = sliceChunk(chunk, 1, 100);
    expect(data.buffer).toBe(chunk.data.buffer);
  });
});
