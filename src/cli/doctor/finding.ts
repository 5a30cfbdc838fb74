import { ExitCode } from '../exit-codes.js';

/** How a check came out: passed, a warning that does not fail the run, a failure, or a plain fact. */
export type FindingLevel = 'pass' | 'warn' | 'fail' | 'info';

/** One line of `buildlog doctor`: what it found and, when something is wrong, what to change. */
export interface Finding {
  readonly level: FindingLevel;
  readonly text: string;
}

/** A check that passed. */
export const passed = (text: string): Finding => ({ level: 'pass', text });
/** Something that works but will bite later (e.g. a heartbeat slower than proxies' idle timeouts). */
export const warned = (text: string): Finding => ({ level: 'warn', text });
/** A check that failed: a browser or a bot would not get what the contract promises. */
export const failed = (text: string): Finding => ({ level: 'fail', text });
/** A fact worth knowing that is neither right nor wrong (the HTTP version). */
export const noted = (text: string): Finding => ({ level: 'info', text });

const MARKS: Record<FindingLevel, string> = { pass: '✓', warn: '⚠', fail: '✗', info: '·' };

/** `✓ text`, `⚠ text`, `✗ text` or `· text`. */
export function formatFinding(finding: Finding): string {
  return `${MARKS[finding.level]} ${finding.text}`;
}

/** The last line: all passed, or how many problems and warnings. */
export function formatSummary(findings: readonly Finding[]): string {
  const failures = findings.filter((finding) => finding.level === 'fail').length;
  const warnings = findings.filter((finding) => finding.level === 'warn').length;
  const warningText = warnings === 0 ? '' : `, ${warnings} warning${warnings === 1 ? '' : 's'}`;
  if (failures === 0) return `All checks passed${warningText}.`;
  return `${failures} problem${failures === 1 ? '' : 's'} found${warningText}.`;
}

/** 0 when nothing failed (warnings do not fail), 1 when something did. */
export function doctorExitCode(findings: readonly Finding[]): number {
  return findings.some((finding) => finding.level === 'fail') ? ExitCode.checkFailed : ExitCode.succeeded;
}
