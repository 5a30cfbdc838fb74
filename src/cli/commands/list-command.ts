import type { CommandContext } from '../command-context.js';
import { ExitCode } from '../exit-codes.js';
import { formatBuildTable } from '../format-build-table.js';
import { writeOutput } from '../write-output.js';

/** The arguments of `buildlog list`. */
export interface ListCommandOptions {
  readonly limit: number;
  readonly json: boolean;
}

/** `buildlog list`: recent builds, newest first, as a table or as the server's JSON. */
export async function runListCommand(context: CommandContext, options: ListCommandOptions): Promise<number> {
  const builds = await context.client.listBuilds(options.limit);
  await writeOutput(context.stdout, options.json ? `${JSON.stringify({ builds }, null, 2)}\n` : formatBuildTable(builds));
  return ExitCode.succeeded;
}
