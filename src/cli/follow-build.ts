import type { Build } from '../builds/build-record.js';
import { BuildLogError, BuildLogNetworkError, createBuildLogClient, type FollowEvent } from '../client/build-log-client.js';
import type { CommandContext } from './command-context.js';
import { CliError, InterruptedError } from './cli-error.js';
import { ExitCode, exitCodeForBuild, exitCodeForSignal } from './exit-codes.js';
import { errorForStatus } from './http-failure.js';
import type { StreamEvent } from './stream-event.js';

/** Which build to follow, and what to do with it when buildlog is stopped. */
export interface FollowBuildOptions {
  readonly buildId: string;
  /** On SIGINT/SIGTERM, cancel the build before leaving. */
  readonly cancelOnExit: boolean;
}

/** How long cancelling on the way out may take; a second Ctrl-C leaves at once anyway. */
const CANCEL_ON_EXIT_TIMEOUT_MS = 10000;

/**
 * Prints a build's stream from its first event to its `end`, each event once across resumes
 * and resets (the typed client's follow, the same the page's element uses), and returns the
 * exit code of its final status. Stopped by a signal, it leaves the build running (or cancels
 * it with --cancel-on-exit) and returns 128 + the signal.
 */
export async function followBuild(context: CommandContext, options: FollowBuildOptions): Promise<number> {
  const { client, printer } = context;
  const streams = createBuildLogClient({ server: client.url(''), token: client.token });
  let finalBuild: Build;
  try {
    ({ build: finalBuild } = await streams.follow({
      build: options.buildId,
      signal: context.signal,
      retryForMs: context.retryForMs,
      onStatus: (status) => {
        if (status.state === 'retrying') printer.notice(`${status.reason}; resuming in ${(status.delayMs / 1000).toFixed(1)} s`);
        if (status.state === 'reset') printer.notice(`the server replays build ${options.buildId} from its start; what was printed already is skipped`);
      },
      onEvent: (event) => printer.print(asStreamEvent(event)),
    }));
  } catch (error) {
    if (error instanceof InterruptedError) return leave(context, options, error.signal);
    throw asCliError(error);
  }
  const code = exitCodeForBuild(finalBuild);
  if (code === null) throw new CliError(ExitCode.protocol, `the stream of build ${options.buildId} ended while the build is not over`);
  return code;
}

function asStreamEvent(event: FollowEvent): StreamEvent {
  return event.name === 'log' ? { name: 'log', id: event.id ?? undefined, data: event.data } : { name: event.name, id: event.id ?? undefined, data: event.data };
}

/** The client's errors as the CLI's exit codes: 69 unreachable, 76 protocol, 77/65 refusals. */
function asCliError(error: unknown): unknown {
  if (error instanceof BuildLogNetworkError) return new CliError(ExitCode.unreachable, error.message);
  if (!(error instanceof BuildLogError)) return error;
  if (error.status === 200) return new CliError(ExitCode.protocol, error.message);
  const isContractError = !/^http_\d+$/.test(error.code);
  return errorForStatus(error.status, isContractError ? JSON.stringify({ error: { code: error.code, message: error.message } }) : error.message, 'follow the build');
}

async function leave(context: CommandContext, options: FollowBuildOptions, signal: NodeJS.Signals): Promise<number> {
  const { buildId } = options;
  if (!options.cancelOnExit) {
    context.printer.notice(`stopped following; build ${buildId} keeps running (follow it again: buildlog logs ${buildId} --follow)`);
    return exitCodeForSignal(signal);
  }
  try {
    const { build, wasRunning } = await context.client.cancelBuild(buildId, AbortSignal.timeout(CANCEL_ON_EXIT_TIMEOUT_MS));
    context.printer.notice(wasRunning ? `cancelled build ${buildId}` : `build ${buildId} was already over (${build.status})`);
  } catch (error) {
    context.printer.notice(`could not cancel build ${buildId}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return exitCodeForSignal(signal);
}
