import net from 'node:net';
import { LatencySampler, type LatencySink } from './latency-sampler.js';
import { SequenceCounter } from './sequence-counter.js';

export interface BenchClientOptions {
  readonly port: number;
  readonly path: string;
  /** When set, this client parses its events and records their latency here. */
  readonly latencySink: LatencySink | null;
  /** A client that stops reading after its first chunk (the slow reader of scenario d). */
  readonly isStalled: boolean;
}

/**
 * One read buffer for every socket of the worker: a read is handled synchronously before the
 * next one starts, and no allocation per read (nor stream machinery) is what lets one process
 * take in thousands of streams.
 */
const READ_BUFFER = Buffer.allocUnsafe(256 << 10);

/**
 * One SSE reader on a raw TCP socket: a minimal HTTP GET, then it only follows the number of
 * the last line received (or, for a sampled client, parses every event for latency and
 * order). It checks the status line and notes when the server closes the stream.
 */
export class BenchClient {
  private readonly socket: net.Socket;
  private readonly counter: SequenceCounter | null;
  private readonly sampler: LatencySampler | null;
  status: number | null = null;
  bytes = 0;
  isClosed = false;
  error: string | null = null;
  /** Resolves at the first chunk of the response (or when the connection fails). */
  readonly answered: Promise<void>;
  private markAnswered!: () => void;

  constructor(private readonly options: BenchClientOptions) {
    this.answered = new Promise((resolve) => (this.markAnswered = resolve));
    this.counter = options.latencySink ? null : new SequenceCounter();
    this.sampler = options.latencySink ? new LatencySampler(options.latencySink) : null;
    this.socket = net.connect({
      port: options.port,
      host: '127.0.0.1',
      noDelay: true,
      onread: { buffer: READ_BUFFER, callback: (length: number, buffer: Uint8Array) => this.onData(buffer as Buffer, length) },
    });
    this.socket.on('connect', () => {
      this.socket.write(`GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`);
    });
    this.socket.on('error', (error) => {
      this.error ??= error.message;
    });
    this.socket.on('close', () => {
      this.isClosed = true;
      this.markAnswered();
    });
  }

  /** Line events received so far. */
  get events(): number {
    return this.sampler ? this.sampler.last : this.counter!.last;
  }

  /** Lines out of order (only a sampled client checks). */
  get sequenceErrors(): number {
    return this.sampler?.sequenceErrors ?? 0;
  }

  get isStalled(): boolean {
    return this.options.isStalled;
  }

  get isOk(): boolean {
    return this.status === 200;
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Returns false to stop reading (the stalled client, after its first chunk). */
  private onData(buffer: Buffer, length: number): boolean {
    const receivedNs = this.sampler ? process.hrtime.bigint() : 0n;
    const chunk = buffer.subarray(0, length);
    if (this.status === null) {
      this.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0);
      this.markAnswered();
    }
    this.bytes += length;
    if (this.sampler) this.sampler.push(chunk, receivedNs);
    else this.counter!.push(chunk);
    return !this.options.isStalled;
  }
}
