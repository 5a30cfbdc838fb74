import { doctorExitCode, formatFinding, formatSummary } from '../doctor/finding.js';
import { runDoctor } from '../doctor/run-doctor.js';
import { writeOutput, type Output } from '../write-output.js';

/** The arguments of `buildlog doctor`. */
export interface DoctorCommandOptions {
  readonly server: string;
  readonly token: string | undefined;
  readonly waitMs: number;
}

/** Where the command writes: the findings on stdout, what it is doing on stderr. */
export interface DoctorIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly signal: AbortSignal;
}

/**
 * `buildlog doctor`: checks a server as the page and the bots reach it (usually through a
 * reverse proxy), one line per finding with what to change; 0 when nothing failed, else 1.
 */
export async function runDoctorCommand(io: DoctorIo, options: DoctorCommandOptions): Promise<number> {
  await writeOutput(io.stdout, `buildlog doctor: checking ${options.server} as the page and a bot reach it\n`);
  const pending: Promise<void>[] = [];
  const findings = await runDoctor({
    ...options,
    signal: io.signal,
    onFinding: (finding) => pending.push(writeOutput(io.stdout, `${formatFinding(finding)}\n`)),
    onNotice: (text) => pending.push(writeOutput(io.stderr, `buildlog: ${text}\n`)),
  });
  await Promise.all(pending);
  await writeOutput(io.stdout, `${formatSummary(findings)}\n`);
  return doctorExitCode(findings);
}
