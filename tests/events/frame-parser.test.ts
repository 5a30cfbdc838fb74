import { FrameParser, lastWholeFrame } from '../../src/events/frame-parser.js';
import { encodeFrame } from '../../src/sse/encode-frame.js';

describe('FrameParser', () => {
  const a = encodeFrame({ id: 'x-1-1', event: 'log', data: '{"text":"a"}' });
  const b = encodeFrame({ id: 'x-2-2', event: 'end', data: '{"build":{}}' });

  it('parses frames split anywhere across pushes, with end offsets', () => {
    const bytes = Buffer.from(a + b);
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const parser = new FrameParser();
      const frames = [...parser.push(bytes.subarray(0, cut)), ...parser.push(bytes.subarray(cut))];
      expect(frames).toEqual([
        { id: 'x-1-1', event: 'log', data: '{"text":"a"}', end: Buffer.byteLength(a) },
        { id: 'x-2-2', event: 'end', data: '{"build":{}}', end: bytes.length },
      ]);
      expect(parser.pendingBytes).toBe(0);
    }
  });

  it('says how many bytes of an incomplete frame are left over', () => {
    const parser = new FrameParser();
    parser.push(Buffer.from(a + 'id: x-2-2\n'));
    expect(parser.pendingBytes).toBe(Buffer.byteLength('id: x-2-2\n'));
  });

  it('stops at a frame that is not ours', () => {
    const parser = new FrameParser();
    const frames = parser.push(Buffer.from(`${a}data: only\n\n${b}`));
    expect(frames).toHaveLength(1);
    expect(parser.malformedAt).toBe(Buffer.byteLength(a));
  });
});

describe('lastWholeFrame', () => {
  const a = encodeFrame({ id: 'x-1-1', event: 'log', data: '{"text":"a"}' });
  const b = encodeFrame({ id: 'x-2-2', event: 'end', data: '{"build":{}}' });

  it('finds the last frame of bytes that end at a frame end', () => {
    expect(lastWholeFrame(Buffer.from(a + b), true)).toMatchObject({ id: 'x-2-2', event: 'end' });
    expect(lastWholeFrame(Buffer.from(a), true)).toMatchObject({ id: 'x-1-1' });
  });

  it('finds it in a tail that starts mid-frame, as long as the frame before it ends in there', () => {
    expect(lastWholeFrame(Buffer.from((a + b).slice(10)), false)).toMatchObject({ id: 'x-2-2' });
  });

  it('gives null for a torn end, or a last frame that does not fit in the tail', () => {
    expect(lastWholeFrame(Buffer.from(a + b.slice(0, -1)), true)).toBeNull();
    expect(lastWholeFrame(Buffer.from(b.slice(5)), false)).toBeNull();
    expect(lastWholeFrame(Buffer.alloc(0), true)).toBeNull();
  });
});
