#!/usr/bin/env node
import { loadCliEnvironment } from './cli-config.js';
import { InterruptedError } from './cli-error.js';
import { ExitCode, exitCodeForSignal } from './exit-codes.js';
import { runCli } from './run-cli.js';
import { flushOutput } from './write-output.js';

// The process edges: signals, the environment, stdout/stderr, the exit code. The rest is runCli.
const interrupt = new AbortController();
let isInterrupted = false;
const onSignal = (signal: NodeJS.Signals) => {
  // A second Ctrl-C while buildlog winds down (say, cancelling the build) leaves at once.
  if (isInterrupted) process.exit(exitCodeForSignal(signal));
  isInterrupted = true;
  interrupt.abort(new InterruptedError(signal));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
// A reader that goes away (`buildlog ... | head`) ends buildlog as SIGPIPE would end a shell tool.
process.stdout.on('error', (error: NodeJS.ErrnoException) => process.exit(error.code === 'EPIPE' ? ExitCode.stdoutClosed : ExitCode.internal));

let code: number;
try {
  code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: loadCliEnvironment(), signal: interrupt.signal });
} catch (error) {
  process.stderr.write(`buildlog: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  code = ExitCode.internal;
}
await Promise.all([flushOutput(process.stdout), flushOutput(process.stderr)]);
process.exit(code);
