import { CliError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';

/**
 * Statuses that mean "later", retried within --retry-for, honouring Retry-After: 503 and 429
 * from the server, 502 and 504 from a proxy in front of a server that is restarting.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 502 || status === 503 || status === 504;
}

/** The notice for a retryable answer: `the server is busy (503 too_many_clients)`. */
export function describeRetryableAnswer(status: number, text: string): string {
  const code = readErrorBody(text)?.code;
  const state = status === 502 || status === 504 ? 'unavailable' : 'busy';
  return `the server is ${state} (${status}${code ? ` ${code}` : ''})`;
}

/** Retry-After in milliseconds (seconds or an HTTP date), or null when absent or unreadable. */
export function retryAfterMs(response: Response, nowMs: number = Date.now()): number | null {
  const value = response.headers.get('Retry-After');
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const dateMs = Date.parse(value);
  return Number.isNaN(dateMs) ? null : Math.max(0, dateMs - nowMs);
}

/** A short reason for a failed fetch: the system error code when there is one (ECONNREFUSED). */
export function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The contract's error body, `{ error: { code, message } }`, when the text is one. */
export function readErrorBody(text: string): { code: string; message: string } | null {
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown } }).error;
    if (typeof error?.code === 'string' && typeof error.message === 'string') return { code: error.code, message: error.message };
  } catch {
    // not JSON: reported as an unexpected answer below
  }
  return null;
}

/** The CliError for an answer that is neither success nor "later": 401 → 77, other 4xx → 65, the rest → 76. */
export function errorForStatus(status: number, text: string, what: string): CliError {
  const body = readErrorBody(text);
  const reason = body ? `${body.message} (${status} ${body.code})` : `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
  if (status === 401) return new CliError(ExitCode.unauthorized, `${what}: ${reason}; give the token with --token or BUILDLOG_TOKEN`);
  if (status >= 400 && status < 500 && body) return new CliError(ExitCode.refused, `${what}: ${reason}`);
  return new CliError(ExitCode.protocol, `${what}: unexpected answer, ${reason}`);
}
