import type { CommandContext } from '../command-context.js';
import { CliError } from '../cli-error.js';
import { ExitCode } from '../exit-codes.js';

/**
 * `buildlog cancel <id>`: asks the server to kill the build. A build that already ended
 * `cancelled` counts as done (a retried cancel lands there); one that ended otherwise is 65.
 */
export async function runCancelCommand(context: CommandContext, buildId: string): Promise<number> {
  const { build, wasRunning } = await context.client.cancelBuild(buildId);
  if (wasRunning) {
    context.printer.notice(`cancel requested for build ${build.id} (it was ${build.status})`);
    return ExitCode.succeeded;
  }
  if (build.status === 'cancelled') {
    context.printer.notice(`build ${build.id} is already cancelled`);
    return ExitCode.succeeded;
  }
  throw new CliError(ExitCode.refused, `build ${build.id} is already over (${build.status}); nothing to cancel`);
}
