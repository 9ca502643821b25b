/**
 * `weir` — the command-line front door. It parses arguments, calls one use case per command and
 * maps results to exit codes: 0 success, 1 run failed, 2 usage or config error.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../model/errors.ts';
import { historyCommand, statusCommand } from './cli-history.ts';
import { planCommand, runCommand, validateCommand } from './cli-run.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';

const HELP = `weir — pipelines-as-code on an embedded DuckDB

Usage:
  weir validate [paths…]            check pipeline files (default: pipelines/)
  weir plan <pipeline>              print the DAG and its parallel levels
  weir run <pipeline…> | --all      run pipelines
  weir history [pipeline|run-id]    past runs, or one run's stages and attempts
  weir status                       each pipeline's last run and next tick

Options:
  --root <dir>          project root (default: current directory)
  --json                machine-readable output
  --quiet               print only errors and the final line
  --param k=v           run parameter (repeatable)
  --only <stage>        run only this stage (repeatable; reuses the last run's tables)
  --from <stage>        run this stage and everything downstream of it
  --interval A..B       data interval (dates or ISO instants); --date D for one day
  --concurrency <n>     most stages at once
  --resume <run-id|last>  continue a run that failed or was cancelled: reuse what succeeded
  --verbose             also show stage starts and logs
  --mermaid             (plan) print the DAG as a Mermaid flowchart
  --limit <n>           (history) most runs to show (default 20)
  --table               (history, status) print a table even when stdout is not a terminal

Exit codes: 0 success, 1 a run failed, 2 usage or configuration error.`;

const OPTIONS = {
  root: { type: 'string' },
  json: { type: 'boolean' },
  quiet: { type: 'boolean' },
  verbose: { type: 'boolean' },
  all: { type: 'boolean' },
  param: { type: 'string', multiple: true, short: 'p' },
  only: { type: 'string', multiple: true },
  from: { type: 'string', multiple: true },
  interval: { type: 'string' },
  date: { type: 'string' },
  concurrency: { type: 'string' },
  resume: { type: 'string' },
  mermaid: { type: 'boolean' },
  limit: { type: 'string' },
  table: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export type CliValues = ReturnType<typeof parse>['values'];

function parse(args: string[]) {
  return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
}

const COMMANDS = { validate: validateCommand, plan: planCommand, run: runCommand, history: historyCommand, status: statusCommand };

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.err(`weir: ${(error as Error).message}\nRun 'weir --help' for usage.`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.version) {
    io.out('weir 0.1.0');
    return EXIT.ok;
  }
  if (values.help || !command) {
    (command || values.help ? io.out : io.err)(HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const handler = COMMANDS[command as keyof typeof COMMANDS];
  if (!handler) {
    io.err(`weir: unknown command '${command}'. Commands: ${Object.keys(COMMANDS).join(', ')}.`);
    return EXIT.usage;
  }
  try {
    return await handler(rest, values, io);
  } catch (error) {
    if (error instanceof UsageError || error instanceof ConfigError) {
      io.err(`weir: ${error.message}`);
      return EXIT.usage;
    }
    io.err(`weir: ${(error as Error).stack ?? String(error)}`);
    return EXIT.failed;
  }
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
