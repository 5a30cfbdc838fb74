import { CommanderError } from 'commander';
import { CliError, InterruptedError } from './cli-error.js';
import { createProgram, type CliIo } from './cli-program.js';
import { ExitCode, exitCodeForSignal } from './exit-codes.js';

/** Runs one command line to its exit code; errors become a `buildlog: ...` line on stderr. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode: number = ExitCode.succeeded;
  const program = createProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // commander has printed its message (or the help) already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.succeeded : ExitCode.usage;
    if (error instanceof InterruptedError) {
      io.stderr.write(`buildlog: ${error.message}\n`);
      return exitCodeForSignal(error.signal);
    }
    if (error instanceof CliError) {
      io.stderr.write(`buildlog: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
