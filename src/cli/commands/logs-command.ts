import type { CommandContext } from '../command-context.js';
import { ExitCode, exitCodeForBuild } from '../exit-codes.js';
import { followBuild } from '../follow-build.js';
import { writeOutput } from '../write-output.js';

/** The arguments of `buildlog logs`. */
export interface LogsCommandOptions {
  readonly buildId: string;
  readonly follow: boolean;
  /** Without --follow: the timestamped text log instead of the exact output. */
  readonly timestamps: boolean;
}

/**
 * `buildlog logs <id>`: with --follow, the build's stream like `build` (replayed from its
 * start, then live to the end). Without it, the log so far from GET /api/builds/:id/log: the
 * exact output (stdout and stderr as written, `?raw=1`) or, with --timestamps, the text log.
 * The exit code is the build's when it is over, else 0.
 */
export async function runLogsCommand(context: CommandContext, options: LogsCommandOptions): Promise<number> {
  const build = await context.client.getBuild(options.buildId);
  if (options.follow) return followBuild(context, { buildId: build.id, cancelOnExit: false });

  const body = await context.client.fetchLog(build.id, !options.timestamps);
  for await (const chunk of body) await writeOutput(context.stdout, chunk);
  const code = exitCodeForBuild(build);
  if (code !== null) return code;
  context.printer.notice(`build ${build.id} is ${build.status}; this is its log so far (add --follow to follow it)`);
  return ExitCode.succeeded;
}
