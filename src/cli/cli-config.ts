/** What the CLI takes from its environment; the only place it reads process.env. */
export interface CliEnvironment {
  /** BUILDLOG_SERVER, or the server's default address. */
  readonly server: string;
  /** BUILDLOG_TOKEN, when set and not empty. */
  readonly token: string | undefined;
  /** NO_COLOR (https://no-color.org): any non-empty value turns dimming off. */
  readonly isColorDisabled: boolean;
}

/** Where the server listens by default (its PORT and HOST defaults). */
export const DEFAULT_SERVER = 'http://127.0.0.1:3000';

/** Reads BUILDLOG_SERVER, BUILDLOG_TOKEN and NO_COLOR once; the values are checked with the options. */
export function loadCliEnvironment(env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  return Object.freeze({
    server: env.BUILDLOG_SERVER || DEFAULT_SERVER,
    token: env.BUILDLOG_TOKEN || undefined,
    isColorDisabled: Boolean(env.NO_COLOR),
  });
}
