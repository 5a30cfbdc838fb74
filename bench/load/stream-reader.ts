import { OutputClient } from './output-client.js';
import type { ReadCommand, ReaderCommand, ReaderReport } from './reader-protocol.js';

/**
 * The stream reader: a child process of its own (the runner samples the server's RSS while
 * it reads, and must not share its event loop with 20 parsers of a 200 MB build). Each `read`
 * connects its clients, reports when they are answered, then when every stream is closed.
 */
const POLL_MS = 5;

function send(report: ReaderReport): void {
  process.send!(report);
}

async function read(command: ReadCommand): Promise<void> {
  const { readId } = command;
  const clients = Array.from(
    { length: command.clients },
    () => new OutputClient({ port: command.port, path: command.path, lastEventId: command.lastEventId, stopAtFirstLog: command.stopAtFirstLog, output: command.output }),
  );
  const deadline = performance.now() + command.timeoutMs;
  await Promise.race([Promise.all(clients.map((c) => c.answered)), new Promise((resolve) => setTimeout(resolve, command.timeoutMs))]);
  send({ type: 'answered', readId, failed: clients.filter((c) => !c.isOk).length });
  while (clients.some((c) => !c.isClosed) && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  const isTimedOut = clients.some((c) => !c.isClosed);
  for (const c of clients) c.destroy();
  send({ type: 'done', readId, streams: clients.map((c) => c.report()), isTimedOut });
}

process.on('message', (command: ReaderCommand) => {
  read(command).catch((error: unknown) => send({ type: 'error', readId: command.readId, message: error instanceof Error ? (error.stack ?? error.message) : String(error) }));
});

// The runner is gone: so is every socket.
process.on('disconnect', () => process.exit(0));
