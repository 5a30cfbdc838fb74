import crypto from 'node:crypto';
import net from 'node:net';
import type { OutputFilter, StreamReport } from './reader-protocol.js';

export interface OutputClientOptions {
  readonly port: number;
  readonly path: string;
  readonly lastEventId: string | null;
  readonly stopAtFirstLog: boolean;
  readonly output: OutputFilter | null;
}

const FRAME_END = Buffer.from('\n\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
const FIRST_FRAMES_KEPT = 3;

/**
 * One SSE reader that parses every frame: it checks that the build positions of the ids
 * follow each other, notes the first frames and the time of the first `log` event, and
 * hashes the output of one step's stream as the contract defines it (the concatenation of
 * `text + (eol ? "\n" : "")`), so that a copy of a 200 MB build is checked without being kept.
 */
export class OutputClient {
  private readonly socket: net.Socket;
  private readonly startedAt = performance.now();
  private readonly hash: crypto.Hash | null;
  private carry: Buffer = Buffer.alloc(0);
  private isInBody = false;
  private lastPosition: number | null = null;
  private status: number | null = null;
  private error: string | null = null;
  private bytes = 0;
  private frames = 0;
  private logEvents = 0;
  private readonly firstFrames: Array<{ event: string; id: string }> = [];
  private firstLogMs: number | null = null;
  private orderErrors = 0;
  private sawEnd = false;
  private outputBytes = 0;
  isClosed = false;
  /** Resolves at the status line (or when the connection fails). */
  readonly answered: Promise<void>;
  private markAnswered!: () => void;

  constructor(private readonly options: OutputClientOptions) {
    this.answered = new Promise((resolve) => (this.markAnswered = resolve));
    this.hash = options.output ? crypto.createHash('sha256') : null;
    this.socket = net.connect({ port: options.port, host: '127.0.0.1', noDelay: true });
    this.socket.on('connect', () => {
      const resume = options.lastEventId === null ? '' : `Last-Event-ID: ${options.lastEventId}\r\n`;
      this.socket.write(`GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nAccept: text/event-stream\r\n${resume}Connection: close\r\n\r\n`);
    });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (error) => {
      this.error ??= error.message;
    });
    this.socket.on('close', () => {
      this.isClosed = true;
      this.markAnswered();
    });
  }

  get isOk(): boolean {
    return this.status === 200;
  }

  destroy(): void {
    this.socket.destroy();
  }

  report(): StreamReport {
    return {
      status: this.status,
      error: this.error,
      bytes: this.bytes,
      frames: this.frames,
      logEvents: this.logEvents,
      firstFrames: this.firstFrames,
      firstLogMs: this.firstLogMs,
      orderErrors: this.orderErrors,
      sawEnd: this.sawEnd,
      outputBytes: this.outputBytes,
      outputSha256: this.hash ? this.hash.copy().digest('hex') : null,
    };
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    let buffer = this.carry.length === 0 ? chunk : Buffer.concat([this.carry, chunk]);
    // Only the new bytes (and the one before them) can complete a separator.
    let searchFrom = Math.max(0, this.carry.length - 3);
    if (!this.isInBody) {
      const end = buffer.indexOf(HEADERS_END, searchFrom);
      if (end === -1) {
        this.carry = buffer;
        return;
      }
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(buffer.toString('latin1', 0, 16))?.[1] ?? 0);
      this.markAnswered();
      this.isInBody = true;
      buffer = buffer.subarray(end + HEADERS_END.length);
      searchFrom = 0;
      if (this.status !== 200) {
        this.carry = Buffer.alloc(0);
        return;
      }
    }
    let start = 0;
    for (let end = buffer.indexOf(FRAME_END, Math.max(start, searchFrom)); end !== -1; end = buffer.indexOf(FRAME_END, start)) {
      if (this.onFrame(buffer.toString('utf8', start, end))) return;
      start = end + FRAME_END.length;
    }
    this.carry = start === 0 ? buffer : Buffer.from(buffer.subarray(start));
  }

  /** Handles one frame; true once the stream is done with (closed at its first log event). */
  private onFrame(text: string): boolean {
    let id: string | null = null;
    let event = 'message';
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data = line.slice(6);
    }
    if (id === null) return false; // retry:, or a heartbeat comment
    this.frames += 1;
    if (this.firstFrames.length < FIRST_FRAMES_KEPT) this.firstFrames.push({ event, id });
    this.checkOrder(event, id);
    if (event === 'end') this.sawEnd = true;
    if (event !== 'log') return false;
    this.logEvents += 1;
    if (this.firstLogMs === null) {
      this.firstLogMs = performance.now() - this.startedAt;
      if (this.options.stopAtFirstLog) {
        this.socket.destroy();
        return true;
      }
    }
    const filter = this.options.output;
    if (!filter || !this.hash) return false;
    const log = JSON.parse(data) as { step: string | null; stream: string; text: string; eol: boolean };
    if (log.step !== filter.step || log.stream !== filter.stream) return false;
    this.hash.update(log.text, 'utf8');
    this.outputBytes += Buffer.byteLength(log.text, 'utf8');
    if (log.eol) {
      this.hash.update('\n');
      this.outputBytes += 1;
    }
    return false;
  }

  /** Ids are `<boot>-<global>-<position in the build>`; a reset (position 0) starts the count over. */
  private checkOrder(event: string, id: string): void {
    const position = Number(id.slice(id.lastIndexOf('-') + 1));
    const expected = this.lastPosition === null ? position : event === 'reset' ? 0 : this.lastPosition + 1;
    if (position !== expected) this.orderErrors += 1;
    this.lastPosition = position;
  }
}
