import type { CommandContext } from '../command-context.js';
import { ExitCode } from '../exit-codes.js';
import { formatWorkerTable } from '../format-worker-table.js';
import { writeOutput } from '../write-output.js';

/** The arguments of `buildlog workers`. */
export interface WorkersCommandOptions {
  readonly json: boolean;
}

/** `buildlog workers`: the processes that run builds, as a table or as the server's JSON. */
export async function runWorkersCommand(context: CommandContext, options: WorkersCommandOptions): Promise<number> {
  const workers = await context.client.listWorkers();
  await writeOutput(context.stdout, options.json ? `${JSON.stringify({ workers }, null, 2)}\n` : formatWorkerTable(workers, Date.now()));
  return ExitCode.succeeded;
}
