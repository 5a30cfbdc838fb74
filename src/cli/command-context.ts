import type { ApiClient } from './api-client.js';
import type { LogPrinter } from './log-printer.js';
import type { Output } from './write-output.js';

/** What every command runs with, made once from the options and the environment. */
export interface CommandContext {
  readonly client: ApiClient;
  readonly printer: LogPrinter;
  readonly stdout: Output;
  readonly stderr: Output;
  /** Aborted when the user stops the CLI (SIGINT, SIGTERM); its reason is an InterruptedError. */
  readonly signal: AbortSignal;
  /** --retry-for, in milliseconds. */
  readonly retryForMs: number;
}
