/**
 * `weir` — the command-line front door. It parses arguments, finds the project root, loads the one
 * command asked for (each command module is imported on demand, so `--version` and `help` load no
 * engine code) and maps results to exit codes: 0 success, 1 run failed, 2 usage or config error.
 */
import { parseArgs } from 'node:util';
import { PipelinePathNotFoundError } from '../definitions/discover.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { ConfigError, RunConflictError } from '../model/errors.ts';
import { HandoffError } from '../use-cases/handoff.ts';
import { COMMANDS, type CommandName, GLOBAL_OPTIONS, isCommand, OPTIONS, type OptionName, parseArgsOptions, renderCommandHelp, renderHelp, VERSION } from './cli-commands.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { resolveProjectRoot, tryFindProjectRoot } from './project-root.ts';

type Parsed = ReturnType<typeof parse>;
export type CliValues = { [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean };
type Handler = (args: string[], values: CliValues, io: Io) => Promise<number>;

function parse(args: string[]) {
  return parseArgs({ args, options: parseArgsOptions(), allowPositionals: true, strict: true, tokens: true });
}

/** Each command's module, loaded only when that command runs. */
const HANDLERS: Record<Exclude<CommandName, 'help' | 'version'>, () => Promise<Handler>> = {
  validate: async () => (await import('./cli-validate.ts')).validateCommand,
  plan: async () => (await import('./cli-validate.ts')).planCommand,
  run: async () => (await import('./cli-run.ts')).runCommand,
  history: async () => (await import('./cli-ledger.ts')).historyCommand,
  status: async () => (await import('./cli-ledger.ts')).statusCommand,
  pause: async () => (await import('./cli-pause.ts')).pauseCommand, // catch-up issue
  unpause: async () => (await import('./cli-pause.ts')).unpauseCommand, // catch-up issue
  // compile and init (branch compile)
  compile: async () => (await import('./cli-compile.ts')).compileCommand,
  init: async () => (await import('./cli-init.ts')).initCommand,
  notify: async () => (await import('./cli-notify.ts')).notifyCommand, // reports issue
  reports: async () => (await import('./cli-reports.ts')).reportsCommand, // artifacts branch
  backfill: async () => (await import('./cli-backfill.ts')).backfillCommand, // backfill branch
  retry: async () => (await import('./cli-retry.ts')).retryCommand, // backfill branch
  site: async () => (await import('./cli-site.ts')).siteCommand, // site branch
  finalize: async () => (await import('./cli-segments.ts')).finalizeCommand, // fan-out
  doctor: async () => (await import('./cli-doctor.ts')).doctorCommand, // gpu branch
  flags: async () => (await import('./cli-flags.ts')).flagsCommand, // gates issue
};

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    return await dispatch(argv, io);
  } catch (error) {
    if (isUserError(error)) {
      io.err(`weir: ${indent(error.message)}`);
      if (debug) io.err(String(error.stack));
      return EXIT.usage;
    }
    if (error instanceof RunConflictError || error instanceof HandoffError) {
      // Nothing ran: another run holds the pipeline. Not a usage error, but no run either.
      io.err(`weir: ${indent(error.message)}`);
      return EXIT.failed;
    }
    io.err(debug ? `weir: ${(error as Error)?.stack ?? String(error)}` : `weir: unexpected error: ${indent((error as Error)?.message ?? String(error))}\n  run with --debug for the stack`);
    return EXIT.failed;
  }
}

async function dispatch(argv: string[], io: Io): Promise<number> {
  const { values, positionals, tokens } = parseOrExplain(argv);
  const [command, ...args] = positionals;
  if (values.version || command === 'version') {
    io.out(`weir ${VERSION}`);
    return EXIT.ok;
  }
  if (command === undefined) {
    (values.help ? io.out : io.err)(renderHelp());
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (command === 'help') return helpCommand(args, io);
  if (!isCommand(command)) {
    throw new UsageError(`unknown command '${command}'${didYouMean(command, Object.keys(COMMANDS))}; commands: ${Object.keys(COMMANDS).join(', ')}`);
  }
  assertOptionsOf(command, tokens);
  if (values.help) {
    io.out(renderCommandHelp(command));
    if (command === 'run' && args.length) io.out(`\n${await (await import('./cli-run.ts')).renderPipelineParams(args, withRoot(values, io), io)}`);
    return EXIT.ok;
  }
  const handler = await HANDLERS[command as keyof typeof HANDLERS]();
  // init (branch compile) makes a project where there is none yet: its root is --root or the current folder.
  if (command === 'init') return handler(args, { ...values, root: values.root ?? io.cwd }, io);
  // doctor (gpu branch) also runs outside a project: its root is then undefined and it checks the machine only.
  if (command === 'doctor') return handler(args, { ...values, root: values.root === undefined ? tryFindProjectRoot(io.cwd) : resolveProjectRoot(io.cwd, values.root) }, io);
  return handler(args, withRoot(values, io), io);
}

/** The values with `root` set to the project root, found by walking up unless `--root` names it. */
function withRoot(values: CliValues, io: Io): CliValues {
  return { ...values, root: resolveProjectRoot(io.cwd, values.root) };
}

function helpCommand(args: string[], io: Io): number {
  const [topic, ...extra] = args;
  if (topic === undefined) {
    io.out(renderHelp());
    return EXIT.ok;
  }
  if (extra.length || !isCommand(topic)) {
    throw new UsageError(`'weir help' takes one command name, got '${args.join(' ')}'${didYouMean(topic, Object.keys(COMMANDS))}; commands: ${Object.keys(COMMANDS).join(', ')}`);
  }
  io.out(renderCommandHelp(topic));
  return EXIT.ok;
}

function parseOrExplain(argv: string[]): { values: CliValues; positionals: string[]; tokens: Parsed['tokens'] } {
  try {
    const { values, positionals, tokens } = parse(argv);
    return { values: values as CliValues, positionals, tokens };
  } catch (error) {
    const command = argv.find((arg) => !arg.startsWith('-'));
    const help = command && isCommand(command) ? `weir ${command} --help` : 'weir --help';
    const unknown = /Unknown option '(-{1,2})([^']+)'/.exec((error as Error).message);
    if (unknown) {
      throw new UsageError(`unknown option '${unknown[1]}${unknown[2]}'${didYouMean(unknown[2], Object.keys(OPTIONS)).replace("mean '", "mean '--")}; '${help}' lists the options`);
    }
    throw new UsageError(`${(error as Error).message}; '${help}' lists the options`);
  }
}

/** A flag the command does not take is an error naming the command, not silently ignored. */
function assertOptionsOf(command: CommandName, tokens: Parsed['tokens']): void {
  const accepted = new Set<string>([...GLOBAL_OPTIONS, ...COMMANDS[command].options]);
  for (const token of tokens) {
    if (token.kind !== 'option' || accepted.has(token.name)) continue;
    const takes = COMMANDS[command].options.length ? `its options: ${COMMANDS[command].options.map((o) => `--${o}`).join(', ')}` : 'it takes none of its own';
    throw new UsageError(`'weir ${command}' does not take ${token.rawName}; ${takes}`);
  }
}

function isUserError(error: unknown): error is Error {
  return error instanceof UsageError || error instanceof ConfigError || error instanceof PipelinePathNotFoundError;
}

/** Lines after the first of a multi-line message, indented under `weir: `. */
function indent(message: string): string {
  return message.replaceAll('\n', '\n  ');
}

function processIo(): Io {
  // `weir run … | head -1`: once the reader has gone, output is dropped; the run goes on and is recorded.
  const ignoreClosedPipe = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  };
  process.stdout.on('error', ignoreClosedPipe);
  process.stderr.on('error', ignoreClosedPipe);
  return {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
    isTty: Boolean(process.stdout.isTTY),
    color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR,
    cwd: process.cwd(),
    env: process.env,
    write: (text) => process.stdout.write(text),
  };
}
