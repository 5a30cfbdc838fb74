import { LineSplitter, type OutputLine } from './line-splitter.js';
import type { OutputStream } from './run-step.js';

/**
 * A partial line is sent after this long without its newline. The contract allows 100 ms;
 * half of it leaves room for a busy event loop.
 */
export const PARTIAL_LINE_FLUSH_MS = 50;

type LineListener = (stream: OutputStream, line: OutputLine, arrivedAtMs: number) => void;

interface StreamState {
  readonly splitter: LineSplitter;
  lastChunkAtMs: number;
  timer: NodeJS.Timeout | null;
}

/**
 * The output of one step: each stream's chunks become lines stamped with the time their chunk
 * arrived, and a partial line is flushed by a timer so that a prompt or a progress bar
 * without a newline is never held back for long.
 */
export class StepOutput {
  private readonly streams: Record<OutputStream, StreamState>;

  constructor(
    private readonly onLine: LineListener,
    private readonly now: () => number = Date.now,
    private readonly flushDelayMs: number = PARTIAL_LINE_FLUSH_MS,
  ) {
    this.streams = { stdout: newStreamState(), stderr: newStreamState() };
  }

  write(stream: OutputStream, chunk: Buffer): void {
    const state = this.streams[stream];
    state.lastChunkAtMs = this.now();
    this.emit(stream, state.splitter.push(chunk));
    if (!state.splitter.hasPartialLine) this.clearTimer(state);
    else state.timer ??= setTimeout(() => this.flushPartial(stream), this.flushDelayMs);
  }

  /** The end of the output: sends whatever is left of both streams. */
  end(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const state = this.streams[stream];
      this.clearTimer(state);
      this.emit(stream, state.splitter.end());
    }
  }

  private flushPartial(stream: OutputStream): void {
    const state = this.streams[stream];
    state.timer = null;
    this.emit(stream, state.splitter.flush());
  }

  private emit(stream: OutputStream, lines: readonly OutputLine[]): void {
    const at = this.streams[stream].lastChunkAtMs;
    for (const line of lines) this.onLine(stream, line, at);
  }

  private clearTimer(state: StreamState): void {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
  }
}

function newStreamState(): StreamState {
  return { splitter: new LineSplitter(), lastChunkAtMs: 0, timer: null };
}
