import { once } from 'node:events';

/** What the CLI writes to: process.stdout / process.stderr, or a test's stream. */
export type Output = NodeJS.WritableStream & { readonly isTTY?: boolean };

/**
 * Writes, and waits for 'drain' when the stream's buffer is full: a slow reader of the CLI's
 * output slows the reading of the SSE stream instead of growing this process's memory.
 */
export async function writeOutput(output: Output, data: string | Uint8Array): Promise<void> {
  if (output.write(data)) return;
  await once(output, 'drain');
}

/** Resolves once everything written so far has been handed to the operating system. */
export function flushOutput(output: Output): Promise<void> {
  return new Promise((resolve) => {
    output.write('', () => resolve());
  });
}
