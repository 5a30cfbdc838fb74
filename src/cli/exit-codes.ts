import type { Build } from '../builds/build-record.js';

/**
 * The CLI's exit codes. A failed build passes its own code through (3 stays 3), so the codes
 * of the CLI itself sit where builds rarely land: sysexits.h for the CLI's own troubles,
 * timeout(1)'s 124, and 128 + the signal for a CLI stopped by a signal.
 */
export const ExitCode = {
  succeeded: 0,
  /** A failed build whose steps left no exit code (e.g. yarn could not start). */
  failedWithoutCode: 1,
  /** `buildlog doctor`: at least one check failed (warnings do not count). */
  checkFailed: 1,
  /** EX_USAGE: bad arguments or options. */
  usage: 64,
  /** EX_DATAERR: the server refused the request (not a project, unknown build, already building, ...). */
  refused: 65,
  /** EX_UNAVAILABLE: the server could not be reached, or stayed busy, for the whole --retry-for. */
  unreachable: 69,
  /** EX_TEMPFAIL: the build was interrupted (the server stopped while it ran); running it again may work. */
  interrupted: 75,
  /** EX_SOFTWARE: a bug in buildlog (the stack trace is printed). */
  internal: 70,
  /** EX_PROTOCOL: the server answered something this CLI does not understand. */
  protocol: 76,
  /** EX_NOPERM: the server wants a token and got none, or a wrong one. */
  unauthorized: 77,
  /** As timeout(1): the build ran longer than the server's BUILD_TIMEOUT_MS. */
  timedOut: 124,
  /** The build was cancelled (by `buildlog cancel`, the API, or --cancel-on-exit). */
  cancelled: 125,
  /** The CLI got SIGINT (Ctrl-C): 128 + 2. */
  sigint: 130,
  /** The CLI's stdout was closed by its reader (EPIPE), as SIGPIPE would end it: 128 + 13. */
  stdoutClosed: 141,
  /** The CLI got SIGTERM: 128 + 15. */
  sigterm: 143,
} as const;

/** The exit code that reports a build's final status; null while the build is not over. */
export function exitCodeForBuild(build: Pick<Build, 'status' | 'exitCode' | 'steps'>): number | null {
  switch (build.status) {
    case 'succeeded':
      return ExitCode.succeeded;
    case 'failed':
      return failedBuildCode(build);
    case 'cancelled':
      return ExitCode.cancelled;
    case 'timed_out':
      return ExitCode.timedOut;
    case 'interrupted':
      return ExitCode.interrupted;
    case 'queued':
    case 'running':
      return null;
    default:
      return ExitCode.protocol;
  }
}

/** The failing step's code, which must never read as success: 0 or none becomes 1. */
function failedBuildCode(build: Pick<Build, 'exitCode' | 'steps'>): number {
  const failedStep = build.steps.find((step) => step.status === 'failed');
  const code = build.exitCode ?? failedStep?.exitCode ?? null;
  if (code === null || !Number.isInteger(code) || code <= 0 || code > 255) return ExitCode.failedWithoutCode;
  return code;
}

/** The exit code of a CLI stopped by a signal. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? ExitCode.sigterm : ExitCode.sigint;
}
