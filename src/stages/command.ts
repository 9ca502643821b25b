/**
 * `uses: command` — run a shell command or a script (dbt, python, a training job). Output streams
 * into the run log line by line as it arrives. The child leads its own process group, so a timeout
 * or cancellation kills everything it started, not just the shell; a watchdog kills the group
 * when weir itself dies (watchdog.ts). Its environment is the run's, without the runner's
 * credentials unless `env_pass` names them (child-env.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, rm, stat } from 'node:fs/promises';
import { constants } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { ExitCodeError, PermanentStageError } from '../policies/errors.ts';
import { buildChildEnv } from './child-env.ts';
import type { StageContext, StageKind, StageResult } from './stage-kind.ts';
import { underWatchdog } from './watchdog.ts';

/** Time between SIGTERM and SIGKILL on abort: enough for a clean shutdown, short for a timeout. */
export const KILL_GRACE_MS = 2000;
/** Lines of stderr quoted in the error of a failed command. */
const STDERR_TAIL_LINES = 20;

export const CommandWith = z
  .strictObject({
    run: z.string().min(1).optional().describe('Shell command, run with `<shell> -c`; args are "$1", "$2", … (this or script).'),
    script: z.string().min(1).optional().describe('Executable script, relative to the project root, run directly (this or run).'),
    args: z.array(z.string()).default([]).describe('Arguments. Default: none.'),
    env: z.record(z.string(), z.string()).default({}).describe('Extra environment variables, over the runner environment.'),
    env_pass: z
      .array(z.string().min(1))
      .default([])
      .describe('Runner credentials the command may see (GITHUB_TOKEN, ACTIONS_*, INPUT_*), stripped otherwise. Default: none.'),
    cwd: z.string().min(1).optional().describe('Working folder, relative to the project root. Default: the project root.'),
    shell: z.string().min(1).default('/bin/sh').describe('Shell for run. Default: /bin/sh.'),
    input: z
      .string()
      .min(1)
      .optional()
      .describe('A table of the run handed to the command as a file: its path is in $WEIR_INPUT (format: format). Default: none.'),
    table: z
      .string()
      .min(1)
      .optional()
      .describe('The command writes a file at $WEIR_OUTPUT (format: format) that becomes this table of the run; checks and later stages see it. Default: none (no table).'),
    format: z.enum(['parquet', 'csv', 'json']).default('parquet').describe('File format of $WEIR_INPUT and $WEIR_OUTPUT: parquet, csv (with a header) or json (one object per line). Default: parquet.'),
  })
  .refine((w) => (w.run === undefined) !== (w.script === undefined), { message: 'set exactly one of run or script', path: ['run'] });
export type CommandWith = z.infer<typeof CommandWith>;

export const commandStage: StageKind<CommandWith> = {
  name: 'command',
  summary: 'Run a shell command or script; its output streams into the run log.',
  with: CommandWith,
  // With `table:` the command hands a table back through $WEIR_OUTPUT.
  producesTable: (config) => typeof (config as { table?: unknown } | undefined)?.table === 'string',
  references: (config) => (config.script === undefined ? [] : [{ field: ['script'], path: config.script }]),
  run: runCommand,
};

async function runCommand(ctx: StageContext, config: CommandWith): Promise<StageResult> {
  ctx.signal.throwIfAborted();
  const cwd = resolve(ctx.root, config.cwd ?? '.');
  await assertFolder(cwd, config.cwd);
  const [file, args] = config.script === undefined ? [config.shell, ['-c', config.run ?? '', 'weir', ...config.args]] : [resolve(ctx.root, config.script), config.args];
  // The watchdog's `exec` would turn a missing or non-executable file into exit 126/127: check first.
  await access(file, fsConstants.X_OK).catch((error: NodeJS.ErrnoException) => {
    throw startError(error, config);
  });
  const files = await tableFiles(ctx, config);
  const [launcher, launchArgs] = underWatchdog(file, args);
  const child = spawn(launcher, launchArgs, { cwd, env: childEnv(ctx, config, files), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderrTail: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => ctx.log.stdout(line));
  createInterface({ input: child.stderr! }).on('line', (line) => {
    ctx.log.stderr(line);
    stderrTail.push(line);
    if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
  });
  const code = await waitForExit(child, ctx.signal, config);
  if (code !== 0) {
    const tail = stderrTail.length > 0 ? `; last lines of stderr:\n${stderrTail.join('\n')}` : ' and printed nothing on stderr';
    // ExitCodeError carries the code that a policy's retry_on / no_retry_on `exit_codes` match.
    throw new ExitCodeError(code, commandLabel(config), { detail: tail, stage: ctx.stage });
  }
  if (config.table === undefined || files.output === undefined) return { outputs: { exit_code: code } };
  const rows = await loadOutput(ctx, config.table, files.output, config);
  return { table: config.table, rows, outputs: { exit_code: code } };
}

const READERS = { parquet: 'read_parquet', csv: 'read_csv_auto', json: 'read_json_auto' } as const;
const WRITERS = { parquet: '(FORMAT parquet)', csv: '(FORMAT csv, HEADER true)', json: '(FORMAT json)' } as const;

/** The files a command with `input:` / `table:` exchanges with the run, under the run folder, fresh for each attempt. */
async function tableFiles(ctx: StageContext, config: CommandWith): Promise<{ input?: string; output?: string }> {
  if (config.input === undefined && config.table === undefined) return {};
  const dir = join(ctx.runDir, 'command', encodeURIComponent(ctx.stage), String(ctx.attempt));
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const ext = config.format === 'json' ? 'jsonl' : config.format;
  const files = { input: config.input === undefined ? undefined : join(dir, `input.${ext}`), output: config.table === undefined ? undefined : join(dir, `output.${ext}`) };
  if (config.input !== undefined && files.input) {
    const known = Number(await ctx.db.scalar(`SELECT (SELECT count(*) FROM duckdb_tables() WHERE table_name = ${quoteLiteral(config.input)}) + (SELECT count(*) FROM duckdb_views() WHERE view_name = ${quoteLiteral(config.input)})`));
    if (!known) throw new PermanentStageError(`with.input names table '${config.input}', which the run does not have: name the table of a stage this one needs (and add it to needs:)`);
    await ctx.db.exec(`COPY (SELECT * FROM ${quoteIdent(config.input)}) TO ${quoteLiteral(files.input)} ${WRITERS[config.format]}`, ctx.signal);
  }
  return files;
}

/** Reads the file the command wrote at $WEIR_OUTPUT into the stage's table; a missing or unreadable file fails the attempt. */
async function loadOutput(ctx: StageContext, table: string, file: string, config: CommandWith): Promise<number> {
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) throw new StageFailedError(`${commandLabel(config)} exited 0 but wrote no file at $WEIR_OUTPUT (${file}); with table: '${table}' it must write the table there as ${config.format}`);
  try {
    await ctx.db.exec(`CREATE OR REPLACE TABLE ${quoteIdent(table)} AS SELECT * FROM ${READERS[config.format]}(${quoteLiteral(file)})`, ctx.signal);
  } catch (error) {
    throw new StageFailedError(`could not read the ${config.format} file ${commandLabel(config)} wrote at $WEIR_OUTPUT (${file}): ${(error as Error).message}`, { cause: error });
  }
  return Number(await ctx.db.scalar(`SELECT count(*) FROM ${quoteIdent(table)}`));
}

/** Resolves with the exit code once the output is drained; on abort, kills the group and rejects. */
function waitForExit(child: ChildProcess, signal: AbortSignal, config: CommandWith): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      killGroup(child, 'SIGTERM');
      killTimer = setTimeout(() => {
        killGroup(child, 'SIGKILL');
        // A process that left the group may still hold our pipes; stop waiting for it.
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, KILL_GRACE_MS);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const settle = () => {
      signal.removeEventListener('abort', onAbort);
      clearTimeout(killTimer);
    };
    child.once('error', (error) => {
      settle();
      reject(startError(error as NodeJS.ErrnoException, config));
    });
    // Background processes the command left behind would hold the pipes open and hang the stage.
    child.once('exit', () => killGroup(child, 'SIGTERM'));
    child.once('close', (code, killedBy) => {
      settle();
      if (signal.aborted) reject(signal.reason);
      else resolvePromise(code ?? 128 + signalNumber(killedBy));
    });
  });
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function childEnv(ctx: StageContext, config: CommandWith, files: { input?: string; output?: string }): Record<string, string> {
  const weir: Record<string, string> = {
    ...(files.input ? { WEIR_INPUT: files.input } : {}),
    ...(files.output ? { WEIR_OUTPUT: files.output } : {}),
    WEIR_RUN_ID: ctx.runId,
    WEIR_PIPELINE: ctx.pipeline,
    WEIR_STAGE: ctx.stage,
    WEIR_ATTEMPT: String(ctx.attempt),
    WEIR_ROOT: ctx.root,
    WEIR_RUN_DIR: ctx.runDir,
  };
  return buildChildEnv({ base: ctx.env, extra: config.env, pass: config.env_pass, weir });
}

async function assertFolder(path: string, asWritten: string | undefined): Promise<void> {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw new StageFailedError(`with.cwd '${asWritten}' is not a folder under the project root (${path}).`);
}

/** A missing script or shell, or one without the exec bit, will not start on a retry either: permanent. */
function startError(error: NodeJS.ErrnoException, config: CommandWith): StageFailedError {
  const what = config.script === undefined ? `shell ${config.shell}` : `script ${config.script}`;
  const hint =
    error.code === 'EACCES' && config.script === undefined ? `check that ${config.shell} is an executable shell`
    : error.code === 'EACCES' ? `make it executable (chmod +x ${config.script ?? config.shell}) or use run: "sh ${config.script ?? ''}"`
    : error.code === 'ENOENT' ? 'check the path (scripts are relative to the project root)'
    : 'check the command';
  const message = `could not start ${what}: ${error.message}; ${hint}.`;
  return error.code === 'EACCES' || error.code === 'ENOENT' ? new PermanentStageError(message, { cause: error }) : new StageFailedError(message, { cause: error });
}

function commandLabel(config: CommandWith): string {
  return config.script === undefined ? `command '${firstLine(config.run ?? '')}'` : `script ${config.script}`;
}

function firstLine(text: string): string {
  const [first = '', ...rest] = text.trim().split('\n');
  return rest.length > 0 ? `${first} …` : first;
}

/** Shell convention: a process killed by signal N exits with 128 + N. */
function signalNumber(name: NodeJS.Signals | null): number {
  return name ? (constants.signals[name] ?? 0) : 0;
}
