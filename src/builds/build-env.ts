import path from 'node:path';

/** The variable that marks every process of a build with its id, wherever it goes (like Jenkins' BUILD_ID). */
export const BUILD_ID_VARIABLE = 'BUILDLOG_BUILD_ID';

/** What a build inherits from the server's own environment (read once, in config). */
export interface InheritedEnv {
  readonly path: string;
  readonly home: string;
  readonly lang: string;
}

/**
 * The whole environment of a build's process, as the contract lists it, and nothing else of
 * the server's (no token, no setting). Node's own folder is put on PATH so that yarn's
 * `#!/usr/bin/env node` and the project's scripts run on the same Node as the server.
 */
export function buildEnvironment(
  inherited: InheritedEnv,
  tmpDir: string,
  buildId: string,
  nodeBinDir: string = path.dirname(process.execPath),
): Record<string, string> {
  const entries = inherited.path.split(path.delimiter).filter(Boolean);
  const pathValue = entries.includes(nodeBinDir) ? entries : [...entries, nodeBinDir];
  return {
    PATH: pathValue.join(path.delimiter),
    HOME: inherited.home,
    LANG: inherited.lang,
    CI: 'true',
    FORCE_COLOR: '1',
    TMPDIR: tmpDir,
    [BUILD_ID_VARIABLE]: buildId,
  };
}
