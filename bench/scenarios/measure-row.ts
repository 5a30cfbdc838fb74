import type { LoadGenerator } from '../harness/load-generator.js';
import type { ServerProcess } from '../harness/server-process.js';
import type { MeasuredWindow, RowResult } from './cell-metrics.js';

/**
 * Measures one row of a scenario that has several (h/cluster and h/one): an error fails that
 * row alone, with its message, and closes whatever clients it left open.
 */
export async function measureRow(row: string, load: LoadGenerator, measure: () => Promise<Omit<RowResult, 'row' | 'error'>>): Promise<RowResult> {
  try {
    return { row, error: null, ...(await measure()) };
  } catch (error) {
    await load.close().catch(() => {});
    return { row, metrics: null, error: error instanceof Error ? error.message : String(error) };
  }
}

/** The measured window, and the server's CPU profile when it runs with --profile (printed for that window). */
export function withProfile(server: ServerProcess, window: MeasuredWindow | undefined): Pick<RowResult, 'window' | 'profileFile'> {
  return { ...(window ? { window } : {}), ...(server.profileFile ? { profileFile: server.profileFile } : {}) };
}
