import { request, type JsonResponse } from '../http.js';

export interface TimedResponse {
  /** null when it did not answer within the bound. */
  readonly response: JsonResponse | null;
  readonly elapsedMs: number;
  readonly error: string | null;
}

/** A request whose answer time is measured; gives up (response null) after boundMs. */
export async function timedRequest(url: string, init: RequestInit = {}, boundMs = 5000): Promise<TimedResponse> {
  const startedAt = Date.now();
  try {
    const response = await request(url, { ...init, signal: AbortSignal.timeout(boundMs) });
    return { response, elapsedMs: Date.now() - startedAt, error: null };
  } catch (error) {
    return { response: null, elapsedMs: Date.now() - startedAt, error: (error as Error).message };
  }
}
