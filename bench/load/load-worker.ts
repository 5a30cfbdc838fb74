import { BenchClient } from './bench-client.js';
import { LatencySink } from './latency-sampler.js';
import { summarizeLatency } from './percentiles.js';
import type { DrainReport, OpenReport, WorkerCommand, WorkerReport } from './protocol.js';

/**
 * The load generator: a child process of its own (so it never shares an event loop with the
 * runner) holding every client socket. The runner drives it over IPC: open, drain, close.
 */
const POLL_MS = 10;
let clients: BenchClient[] = [];
const sink = new LatencySink();

function send(report: WorkerReport): void {
  process.send!(report);
}

async function open(command: Extract<WorkerCommand, { cmd: 'open' }>): Promise<OpenReport> {
  const started = performance.now();
  const deadline = Date.now() + command.timeoutMs;
  const total = command.clients + command.stalled;
  // Sampled clients are spread over the connection order: the server writes in that order,
  // so the first and the last clients of each flush are both measured.
  const sampleStep = command.sampled > 0 ? command.clients / command.sampled : Infinity;
  let nextSample = command.sampled > 0 ? 0 : Infinity;
  sink.clear();
  for (let first = 0; first < total; first += command.batch) {
    const batch: BenchClient[] = [];
    for (let i = first; i < Math.min(total, first + command.batch); i += 1) {
      const isStalled = i >= command.clients;
      const isSampled = !isStalled && i >= nextSample;
      if (isSampled) nextSample += sampleStep;
      // Contiguous shares rather than turns: the sampled clients, spread over the order, land on every port.
      const port = command.ports[Math.min(command.ports.length - 1, Math.floor((i * command.ports.length) / total))]!;
      batch.push(new BenchClient({ port, path: command.path, latencySink: isSampled ? sink : null, isStalled }));
    }
    clients.push(...batch);
    const remainingMs = deadline - Date.now();
    await Promise.race([Promise.all(batch.map((c) => c.answered)), new Promise((resolve) => setTimeout(resolve, Math.max(0, remainingMs)))]);
    if (Date.now() > deadline) break;
  }
  const failedClients = clients.filter((c) => !c.isOk);
  const firstFailure = failedClients[0] ? `status ${failedClients[0].status ?? 'none'} ${failedClients[0].error ?? ''}`.trim() : null;
  return { type: 'opened', connected: clients.length - failedClients.length, failed: total - (clients.length - failedClients.length), firstFailure, ms: performance.now() - started };
}

async function drain(command: Extract<WorkerCommand, { cmd: 'drain' }>): Promise<DrainReport> {
  const started = performance.now();
  const readers = clients.filter((c) => !c.isStalled);
  // A reader is done when it has every event, or when the server closed its stream.
  const isDone = () => readers.every((c) => c.isClosed || c.events >= command.expectedPerClient);
  while (!isDone() && performance.now() - started < command.timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const ms = performance.now() - started;
  let delivered = 0;
  let bytes = 0;
  for (const c of readers) {
    delivered += c.events;
    bytes += c.bytes;
  }
  return {
    type: 'drained',
    delivered,
    short: readers.filter((c) => c.events < command.expectedPerClient).length,
    isTimedOut: !isDone(),
    bytes,
    sequenceErrors: readers.reduce((sum, c) => sum + c.sequenceErrors, 0),
    ms,
    latency: summarizeLatency(sink.sorted()),
  };
}

async function closeAll(): Promise<void> {
  for (const c of clients) c.destroy();
  const closing = clients;
  clients = [];
  const deadline = Date.now() + 5000;
  while (closing.some((c) => !c.isClosed) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}

process.on('message', (message: WorkerCommand) => {
  const handle = async (): Promise<WorkerReport> => {
    if (message.cmd === 'open') return open(message);
    if (message.cmd === 'drain') return drain(message);
    await closeAll();
    return { type: 'closed' };
  };
  handle().then(send, (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.stack ?? error.message : String(error) }));
});

// The runner is gone: so is every socket.
process.on('disconnect', () => process.exit(0));
