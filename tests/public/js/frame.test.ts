import { loadPageModule, type FrameModule } from '../../helpers/page-modules.js';

// The browser's frame clock is the edge: frames come when the test runs them.
type FrameCallback = (timeMs: number) => void;
const frames: FrameCallback[] = [];
Object.assign(globalThis, { requestAnimationFrame: (callback: FrameCallback): number => frames.push(callback) });

const { onNextFrame } = await loadPageModule<FrameModule>('frame');

/** Runs the frames asked for so far, as the browser would draw the next one. */
function drawFrame(): void {
  for (const frame of frames.splice(0)) frame(0);
}

describe('onNextFrame (public/js/frame.js)', () => {
  it('runs a task once in the next frame however often it was asked for, and asks for one frame only', () => {
    const runs: string[] = [];
    const redraw = () => runs.push('redraw');
    for (let i = 0; i < 1000; i += 1) onNextFrame(redraw);
    onNextFrame(() => runs.push('other'));
    expect(frames).toHaveLength(1);
    expect(runs).toEqual([]);
    drawFrame();
    expect(runs).toEqual(['redraw', 'other']);
    drawFrame();
    expect(runs).toEqual(['redraw', 'other']);
  });

  it('puts a task asked for while a frame runs into the following frame', () => {
    const runs: string[] = [];
    const again = () => runs.push('again');
    onNextFrame(() => {
      runs.push('first');
      onNextFrame(again);
    });
    drawFrame();
    expect(runs).toEqual(['first']);
    drawFrame();
    expect(runs).toEqual(['first', 'again']);
  });
});
