import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onExit } from './exit-cleanup.js';
import { benchDir } from './paths.js';

/** The fixture project every server builds (the real one through yarn, LIMIT and SEED directly). */
export const FIXTURE_PROJECT = 'sse-lines';
/** The fixture of row f: a 200 MB build with one 50 MB line (only OURS builds it). */
export const BIG_OUTPUT_PROJECT = 'big-output';

/** What the fixture's build.js prints. rate 0: as fast as the pipe takes it. */
export interface BuildParams {
  readonly lines: number;
  readonly rate: number;
  readonly burstLines: number;
  /** Characters of each line's text. */
  readonly width: number;
}

/** What big-output's build.js prints (all on stderr). */
export interface BigOutputParams {
  readonly totalBytes: number;
  /** Characters of the one long line, written without a newline until its end. */
  readonly longLineBytes: number;
  /** Bytes of every other line, its newline included. */
  readonly lineBytes: number;
}

/** What big-output's build.js reports: what it wrote, for the readers to check their copy. */
export interface BigOutputStats {
  readonly bytes: number;
  readonly sha256: string;
}

/** What build.js reports when it is done. */
export interface BuildStats {
  readonly sent: number;
  /** How late the latest burst went out after its scheduled time (a blocked pipe, a late timer). */
  readonly maxLagMs: number;
}

/** The control files of one build: build.js writes `ready`, waits for `go`, ends with `stats`. */
export interface BuildControl {
  readonly readyFile: string;
  readonly goFile: string;
  readonly statsFile: string;
}

/** How long build.js waits for its go file before it gives up and exits. */
const MAX_WAIT_FOR_GO_MS = 120000;

/**
 * A temporary PROJECTS_ROOT with a copy of the fixture projects, a DATA_DIR, and a folder for
 * the control files through which the bench paces each build.
 */
export class BenchFixture {
  readonly base: string;
  readonly projectsRoot: string;
  readonly dataDir: string;
  private readonly controlDir: string;
  private builds = 0;
  /** Removes the folders (also when the bench stops on an error). */
  readonly remove: () => void;

  constructor() {
    this.base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'buildlog-bench-')));
    this.projectsRoot = path.join(this.base, 'projects');
    this.dataDir = path.join(this.base, 'data');
    this.controlDir = path.join(this.base, 'control');
    fs.cpSync(path.join(benchDir, 'fixtures'), this.projectsRoot, { recursive: true });
    fs.mkdirSync(this.dataDir);
    fs.mkdirSync(this.controlDir);
    const base = this.base;
    this.remove = onExit(() => fs.rmSync(base, { recursive: true, force: true }));
  }

  /** Writes the parameters of the next build of `project`; returns its control files. */
  prepareBuild(params: BuildParams | BigOutputParams, project: string = FIXTURE_PROJECT): BuildControl {
    this.builds += 1;
    const control: BuildControl = {
      readyFile: path.join(this.controlDir, `ready-${this.builds}`),
      goFile: path.join(this.controlDir, `go-${this.builds}`),
      statsFile: path.join(this.controlDir, `stats-${this.builds}`),
    };
    const file = path.join(this.projectsRoot, project, 'bench-params.json');
    fs.writeFileSync(file, JSON.stringify({ ...params, ...control, maxWaitMs: MAX_WAIT_FOR_GO_MS }));
    return control;
  }
}

/** Resolves once build.js is waiting for its go file. */
export async function waitForReady(control: BuildControl, timeoutMs: number): Promise<void> {
  await waitForFile(control.readyFile, timeoutMs, 'the build to start');
}

export function go(control: BuildControl): void {
  fs.writeFileSync(control.goFile, '');
}

export async function readStats<Stats = BuildStats>(control: BuildControl, timeoutMs: number): Promise<Stats> {
  const deadline = Date.now() + timeoutMs;
  await waitForFile(control.statsFile, timeoutMs, "the build's stats");
  // build.js creates the file, then writes it: a read in between finds it empty (or half written).
  for (;;) {
    try {
      return JSON.parse(fs.readFileSync(control.statsFile, 'utf8')) as Stats;
    } catch (error) {
      if (!(error instanceof SyntaxError) || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

async function waitForFile(file: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!fs.existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
