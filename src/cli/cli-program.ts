import { Command, InvalidArgumentError, Option } from 'commander';
import { ApiClient } from './api-client.js';
import type { CliEnvironment } from './cli-config.js';
import { CliError } from './cli-error.js';
import type { CommandContext } from './command-context.js';
import { runBuildCommand } from './commands/build-command.js';
import { runCancelCommand } from './commands/cancel-command.js';
import { runDoctorCommand } from './commands/doctor-command.js';
import { runListCommand } from './commands/list-command.js';
import { runLogsCommand } from './commands/logs-command.js';
import { runWorkersCommand } from './commands/workers-command.js';
import { ExitCode } from './exit-codes.js';
import { LogPrinter, type LogPrinterOptions } from './log-printer.js';
import type { Output } from './write-output.js';

/** The process edges a run of the CLI gets: its output streams, environment and abort signal. */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly env: CliEnvironment;
  readonly signal: AbortSignal;
}

/** Options that every command takes. */
interface ConnectionOptions {
  server?: string;
  token?: string;
  retryFor: number;
}

const DEFAULT_RETRY_FOR_SECONDS = 60;
const DEFAULT_LIST_LIMIT = 20;
/** Two of the server's default 15 s heartbeats, and some slack: enough to see two of them. */
const DEFAULT_DOCTOR_WAIT_MS = 35000;

const EXIT_CODES_HELP = `
Exit codes:
  0        the build succeeded (or the command did its job; doctor: every check passed)
  1        doctor: a check failed (each ✗ line says what to change)
  1-255    the build failed: the failing step's exit code (1 when it has none)
  64       bad usage: unknown command or option, missing or invalid argument
  65       the server refused the request (not a project, unknown build, already building, ...)
  69       the server was unreachable or busy for the whole --retry-for
  70       an internal error of buildlog (a bug; the stack trace is printed)
  75       the build was interrupted: the server stopped while it ran
  76       the server answered something unexpected
  77       unauthorized: a missing or wrong token
  124      the build timed out (BUILD_TIMEOUT_MS)
  125      the build was cancelled
  130/143  buildlog itself was stopped by SIGINT (Ctrl-C) / SIGTERM`;

/**
 * The command line, defined with commander (a well-kept parser: subcommands, help, errors
 * and suggestions for free). Each action sets the exit code through `setExitCode`.
 */
export function createProgram(io: CliIo, setExitCode: (code: number) => void): Command {
  const program = new Command('buildlog')
    .description('Start builds on a build-log server and follow their output, like `gh run watch --exit-status`.')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', EXIT_CODES_HELP);

  withConnectionOptions(program.command('build'), io)
    .addHelpText('after', EXIT_CODES_HELP)
    .description("start a build of a project (yarn install, then yarn build) and follow its output; exit with the build's code")
    .argument('<path>', 'project folder, absolute or relative to the server\'s first PROJECTS_ROOT')
    .option('--timestamps', 'prefix each line with [time]')
    .option('--json', 'print every event as one JSON line on stdout')
    .option('--cancel-on-exit', 'cancel the build when buildlog is stopped (Ctrl-C, SIGTERM); without it the build keeps running')
    .addOption(new Option('--idempotency-key <key>', 'reuse a key to make a re-run find the same build (default: a new key per run)').argParser(parseIdempotencyKey))
    .action(async (projectPath: string, options: ConnectionOptions & PrintOptions & { cancelOnExit?: boolean; idempotencyKey?: string }) => {
      const context = createContext(io, options, printerOptions(io, options));
      setExitCode(await runBuildCommand(context, { projectPath, cancelOnExit: options.cancelOnExit === true, idempotencyKey: options.idempotencyKey }));
    });

  withConnectionOptions(program.command('logs'), io)
    .addHelpText('after', EXIT_CODES_HELP)
    .description("print a build's log so far and exit with its code if it is over; --follow it to its end like build")
    .argument('<id>', 'build id')
    .option('-f, --follow', 'follow the build until it ends (replays it from the start, then live)')
    .option('--timestamps', 'prefix each line with [time] (without --follow: the text log with [stderr] and [system] marks)')
    .option('--json', 'with --follow: print every event as one JSON line on stdout')
    .action(async (buildId: string, options: ConnectionOptions & PrintOptions & { follow?: boolean }) => {
      if (options.json && !options.follow) throw new CliError(ExitCode.usage, 'logs: --json needs --follow');
      const context = createContext(io, options, printerOptions(io, options));
      setExitCode(await runLogsCommand(context, { buildId, follow: options.follow === true, timestamps: options.timestamps === true }));
    });

  withConnectionOptions(program.command('list'), io)
    .description('list recent builds, newest first')
    .addOption(new Option('--limit <n>', 'how many builds (at most 500)').default(DEFAULT_LIST_LIMIT).argParser(parseLimit))
    .option('--json', 'print the builds as JSON')
    .action(async (options: ConnectionOptions & { limit: number; json?: boolean }) => {
      const context = createContext(io, options, printerOptions(io, {}));
      setExitCode(await runListCommand(context, { limit: options.limit, json: options.json === true }));
    });

  withConnectionOptions(program.command('workers'), io)
    .description('list the processes that run builds: status, slots taken, when last seen, and the builds they run')
    .option('--json', 'print the workers as JSON')
    .action(async (options: ConnectionOptions & { json?: boolean }) => {
      const context = createContext(io, options, printerOptions(io, {}));
      setExitCode(await runWorkersCommand(context, { json: options.json === true }));
    });

  withConnectionOptions(program.command('cancel'), io)
    .description('cancel a queued or running build')
    .argument('<id>', 'build id')
    .action(async (buildId: string, options: ConnectionOptions) => {
      const context = createContext(io, options, printerOptions(io, {}));
      setExitCode(await runCancelCommand(context, buildId));
    });

  program
    .command('doctor')
    .description('check the server as the page and bots reach it, through any reverse proxy: token, Host and Origin, HTTP version, an unbuffered, uncompressed stream and its heartbeats')
    .addHelpText('after', '\nExit codes: 0 when every check passed (warnings do not count), 1 when one failed, 64 for bad usage.')
    .option('--server <url>', `the URL people and bots use (env BUILDLOG_SERVER, now ${io.env.server})`)
    .option('--token <token>', 'API token, when the server has AUTH_TOKEN (env BUILDLOG_TOKEN)')
    .addOption(
      new Option('--wait <ms>', "how long to watch the stream's heartbeats at most (it stops after three)").default(DEFAULT_DOCTOR_WAIT_MS).argParser(parseMilliseconds),
    )
    .action(async (options: { server?: string; token?: string; wait: number }) => {
      const server = checkedServer(options.server ?? io.env.server);
      setExitCode(await runDoctorCommand(io, { server, token: options.token ?? io.env.token, waitMs: options.wait }));
    });

  return program;
}

interface PrintOptions {
  timestamps?: boolean;
  json?: boolean;
}

function withConnectionOptions(command: Command, io: CliIo): Command {
  return command
    .option('--server <url>', `build-log server (env BUILDLOG_SERVER, now ${io.env.server})`)
    .option('--token <token>', 'API token, when the server has AUTH_TOKEN (env BUILDLOG_TOKEN)')
    .addOption(
      new Option('--retry-for <seconds>', 'how long to keep retrying an unreachable or busy server before exit code 69')
        .default(DEFAULT_RETRY_FOR_SECONDS)
        .argParser(parseSeconds),
    )
    .showHelpAfterError('(add --help for usage)');
}

function printerOptions(io: CliIo, options: PrintOptions): LogPrinterOptions {
  const json = options.json === true;
  return { json, timestamps: options.timestamps === true, dimSystem: !json && io.stderr.isTTY === true && !io.env.isColorDisabled };
}

/** One validation pass over what the options and the environment say, then the parts the commands use. */
function createContext(io: CliIo, options: ConnectionOptions, printing: LogPrinterOptions): CommandContext {
  const server = checkedServer(options.server ?? io.env.server);
  const printer = new LogPrinter(io.stdout, io.stderr, printing);
  const retryForMs = options.retryFor * 1000;
  const client = new ApiClient({
    server,
    token: options.token ?? io.env.token,
    retryForMs,
    signal: io.signal,
    onNotice: (text) => printer.notice(text),
  });
  return { client, printer, stdout: io.stdout, stderr: io.stderr, signal: io.signal, retryForMs };
}

function checkedServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliError(ExitCode.usage, `the server must be an http:// or https:// URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new CliError(ExitCode.usage, `the server must be an http:// or https:// URL, got "${value}"`);
  return url.href.replace(/\/+$/, '');
}

function parseSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) throw new InvalidArgumentError('Give a number of seconds, e.g. 60.');
  return Number(value);
}

function parseMilliseconds(value: string): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('Give a whole number of milliseconds, e.g. 35000.');
  return Number(value);
}

function parseLimit(value: string): number {
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 500) throw new InvalidArgumentError('Give a whole number from 1 to 500.');
  return Number(value);
}

/** The contract's Idempotency-Key: 1-200 visible ASCII characters. */
function parseIdempotencyKey(value: string): string {
  if (!/^[\x21-\x7e]{1,200}$/.test(value)) throw new InvalidArgumentError('Give 1 to 200 visible ASCII characters.');
  return value;
}
