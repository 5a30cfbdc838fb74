import type { Build } from '../builds/build-record.js';
import type { CommandContext } from './command-context.js';
import { CliError, InterruptedError } from './cli-error.js';
import { ExitCode, exitCodeForBuild, exitCodeForSignal } from './exit-codes.js';
import { ReplayGuard } from './replay-guard.js';
import { parseStreamEvent } from './stream-event.js';
import { followStream } from './stream-follower.js';

/** Which build to follow, and what to do with it when buildlog is stopped. */
export interface FollowBuildOptions {
  readonly buildId: string;
  /** The build's streamUrl (a path on the server). */
  readonly streamPath: string;
  /** On SIGINT/SIGTERM, cancel the build before leaving. */
  readonly cancelOnExit: boolean;
}

/** How long cancelling on the way out may take; a second Ctrl-C leaves at once anyway. */
const CANCEL_ON_EXIT_TIMEOUT_MS = 10000;

/**
 * Prints a build's stream from its first event to its `end`, each event once across resumes
 * and resets, and returns the exit code of its final status. Stopped by a signal, it leaves
 * the build running (or cancels it with --cancel-on-exit) and returns 128 + the signal.
 */
export async function followBuild(context: CommandContext, options: FollowBuildOptions): Promise<number> {
  const { client, printer } = context;
  const guard = new ReplayGuard();
  let finalBuild: Build | null = null;
  try {
    const outcome = await followStream({
      url: client.url(options.streamPath),
      headers: client.authHeaders,
      signal: context.signal,
      retryForMs: context.retryForMs,
      onNotice: (text) => printer.notice(text),
      onMessage: async (message) => {
        if (message.event === 'reset') {
          guard.reset();
          printer.notice(`the server replays build ${options.buildId} from its start; what was printed already is skipped`);
          return;
        }
        if (!guard.isNew()) return;
        const event = parseStreamEvent(message);
        await printer.print(event);
        if (event.name === 'end') finalBuild = event.data.build;
      },
    });
    // 204: the server says the stream is over; its record says how it ended.
    if (outcome === 'no_content') finalBuild = await client.getBuild(options.buildId);
  } catch (error) {
    if (error instanceof InterruptedError) return leave(context, options, error.signal);
    throw error;
  }
  const code = finalBuild === null ? null : exitCodeForBuild(finalBuild);
  if (code === null) throw new CliError(ExitCode.protocol, `the stream of build ${options.buildId} ended while the build is not over`);
  return code;
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
