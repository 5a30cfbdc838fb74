/** The first wait of an outage; each further one doubles, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 5000;
/** A server's hint (Retry-After, `retry:`) is honoured up to this. */
const MAX_HINT_MS = 60000;

/**
 * Bounds the retries of one outage: waits grow from 250 ms to 5 s (or what the server asked
 * for, if longer), and no wait may end past `retryForMs` after the first failure. A success
 * starts the next outage afresh. Time comes in as a parameter, so it is tested without clocks.
 */
export class RetryBudget {
  private outageStartMs: number | null = null;
  private failures = 0;

  constructor(
    readonly retryForMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The wait before the next attempt after a failure, or null once the budget is spent. */
  nextDelayMs(hintMs: number | null = null): number | null {
    const nowMs = this.now();
    this.outageStartMs ??= nowMs;
    const backoffMs = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** this.failures);
    this.failures += 1;
    const delayMs = Math.max(backoffMs, Math.min(hintMs ?? 0, MAX_HINT_MS));
    if (nowMs - this.outageStartMs + delayMs > this.retryForMs) return null;
    return delayMs;
  }

  /** The server answered: the next failure starts a new outage. */
  succeeded(): void {
    this.outageStartMs = null;
    this.failures = 0;
  }
}
