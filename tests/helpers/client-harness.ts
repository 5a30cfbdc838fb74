import type { FollowEvent, FollowStatus, LogEventData } from '../../src/client/build-log-client.js';

/** What a follow handed on, kept for the assertions. */
export class Recorder {
  readonly events: FollowEvent[] = [];
  readonly statuses: FollowStatus[] = [];
  readonly onEvent = (event: FollowEvent): void => {
    this.events.push(event);
  };
  readonly onStatus = (status: FollowStatus): void => {
    this.statuses.push(status);
  };

  /** The log lines handed on, in order. */
  get lines(): LogEventData[] {
    return this.events.flatMap((event) => (event.name === 'log' ? [event.data] : []));
  }

  /** stdout rebuilt from the lines, as the contract's exactness rule says. */
  get stdout(): string {
    return this.lines
      .filter((line) => line.stream === 'stdout')
      .map((line) => line.text + (line.eol ? '\n' : ''))
      .join('');
  }

  /** stdout and stderr as GET /api/builds/:id/log?raw=1 gives them back: in event order, no system lines. */
  get rawOutput(): string {
    return this.lines
      .filter((line) => line.stream !== 'system')
      .map((line) => line.text + (line.eol ? '\n' : ''))
      .join('');
  }

  /** The numbers of the `lines` fixture's lines. */
  get lineNumbers(): number[] {
    return [...this.stdout.matchAll(/^line (\d{6}) /gm)].map((match) => Number(match[1]));
  }

  /** The per-build event numbers (`n` of `<boot>-<g>-<n>`) handed on. */
  get eventNumbers(): number[] {
    return this.events.map((event) => Number(event.id!.split('-')[2]));
  }
}

export const oneToN = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** A fetch that counts stream connections, and can hand the server a made-up Last-Event-ID. */
export function streamFetch(): { fetch: typeof fetch; connections: () => number; forgeNextId: () => void } {
  let connections = 0;
  let isForging = false;
  return {
    connections: () => connections,
    forgeNextId: () => {
      isForging = true;
    },
    fetch: (input, init) => {
      const url = String(input);
      if (!url.includes('/api/log/push')) return fetch(input, init);
      connections += 1;
      const headers = { ...(init?.headers as Record<string, string>) };
      if (isForging && headers['Last-Event-ID']) {
        // An id of this server's form that no event carried: the server answers with reset.
        headers['Last-Event-ID'] = 'zzzz-999999999-999999999';
        isForging = false;
      }
      return fetch(input, { ...init, headers });
    },
  };
}
