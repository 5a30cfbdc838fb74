// koa-sse-stream ships no types; this is the part of its README that the SEED server uses.
declare module 'koa-sse-stream' {
  import type { Middleware } from 'koa';
  import type { Transform } from 'node:stream';

  export interface SseOptions {
    maxClients?: number;
    pingInterval?: number;
    closeEvent?: string;
    matchQuery?: string;
  }

  export interface SseMessage {
    data?: string;
    event?: string;
    id?: string | number;
    retry?: number;
  }

  /** ctx.sse: a writable stream with `send` (returns nothing: the caller never sees backpressure). */
  export interface SseStream extends Transform {
    send(data: string | SseMessage): void;
    sendEnd(data?: string | SseMessage): void;
  }

  export default function sse(options?: SseOptions): Middleware;
}
