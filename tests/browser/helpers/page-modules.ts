/**
 * The page's pure modules (plain ES modules in public/js), loaded in Node for unit tests,
 * with the types of what the tests use.
 */

export interface TerminalLineApi {
  readonly text: string;
  readonly ansi: string;
  readonly cursor: number;
}

export interface TerminalLineModule {
  TerminalLine: new () => TerminalLineApi;
  TerminalWriter: new () => { write(line: TerminalLineApi, text: string): void; endLine(): void };
  applySgr(state: readonly string[], params: string): readonly string[];
  PLAIN: readonly string[];
}

export interface LogEventData {
  step?: string | null;
  stream: 'stdout' | 'stderr' | 'system';
  time: string;
  ts: number;
  text: string;
  eol: boolean;
}

export interface LogLineApi {
  readonly index: number;
  readonly number: number;
  readonly step: string | null;
  readonly stream: string;
  readonly time: string;
  readonly text: string;
  readonly ansi: string;
  readonly version: number;
}

export interface BuildLogApi {
  readonly lines: LogLineApi[];
  readonly sections: { step: string | null; lines: LogLineApi[] }[];
  append(event: LogEventData): void;
  clear(): void;
  takeChanges(): { wasCleared: boolean; lineIndexes: number[] };
}

export interface BuildLogModule {
  BuildLog: new () => BuildLogApi;
}

export interface LogSearchApi {
  readonly count: number;
  readonly position: number;
  readonly current: { line: number; k: number } | null;
  setQuery(query: string, lines: readonly { text: string }[]): void;
  update(lines: readonly { text: string }[], lineIndexes: number[]): void;
  clearLines(): void;
  matchesIn(lineIndex: number, lines: readonly { text: string }[]): number[];
  next(): { line: number; k: number } | null;
  previous(): { line: number; k: number } | null;
}

export interface LogSearchModule {
  LogSearch: new () => LogSearchApi;
  findAll(text: string, needle: string): number[];
}

export interface FirstErrorModule {
  findFirstError(lines: readonly { stream: string; text: string }[]): number;
}

export interface PermalinkModule {
  parseHash(hash: string): { build: string | null; line: number | null };
  formatHash(build: string | null, line?: number | null): string;
}

export interface FormatModule {
  formatDuration(ms: number | null): string;
  clockTime(time: string): string;
  projectName(projectPath: string): string;
}

/** Imports public/js/<name>.js. */
export async function loadPageModule<T>(name: string): Promise<T> {
  const specifier = `../../../public/js/${name}.js`;
  return (await import(specifier)) as T;
}
