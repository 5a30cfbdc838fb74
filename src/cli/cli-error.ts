/** An error that ends the CLI with a message on stderr and a given exit code (see exit-codes.ts). */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The reason the CLI's abort signal carries when the user stopped it with a signal (Ctrl-C). */
export class InterruptedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`interrupted by ${signal}`);
  }
}

/** Rethrows the abort reason of a signal that fired (an InterruptedError, or a timeout). */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw signal.reason;
}
