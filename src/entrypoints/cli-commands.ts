/**
 * What the CLI accepts, as data: every option, every command with the options it takes, and the
 * help text built from both. Kept free of engine imports so `weir --version` and `weir help` load
 * nothing else.
 */
import type { ParseArgsOptionsConfig } from 'node:util';

export const VERSION = '0.1.0';

interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  short?: string;
  /** How the value is written in help, e.g. `k=v`. */
  value?: string;
  help: string;
}

/** Every option of every command; each command lists the ones it takes. */
export const OPTIONS = {
  root: { type: 'string', value: 'dir', help: 'project root (default: the nearest folder up with weir.yml or pipelines/)' },
  debug: { type: 'boolean', help: 'print the stack of an unexpected error' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
  version: { type: 'boolean', short: 'v', help: 'print the version' },
  json: { type: 'boolean', help: 'machine-readable output' },
  quiet: { type: 'boolean', help: 'print only failures and the final line, each naming its pipeline' },
  verbose: { type: 'boolean', help: 'also show stage starts and log lines' },
  all: { type: 'boolean', help: 'every pipeline in pipelines/ (instead of naming them)' },
  param: { type: 'string', multiple: true, short: 'p', value: 'k=v', help: 'run parameter (repeatable)' },
  only: { type: 'string', multiple: true, value: 'stage', help: 'only this stage (repeatable; upstream tables come from the last run)' },
  from: { type: 'string', multiple: true, value: 'stage', help: 'this stage and everything downstream of it (repeatable)' },
  interval: { type: 'string', value: 'A..B', help: 'data interval, as dates or ISO 8601 instants' },
  date: { type: 'string', value: 'YYYY-MM-DD', help: 'data interval: that UTC day' },
  concurrency: { type: 'string', value: 'n', help: 'most stages at once' },
  resume: { type: 'string', value: 'run-id|last', help: 'continue a run that failed or was cancelled, reusing what succeeded' },
  wait: { type: 'boolean', help: 'wait for a running run of the pipeline to finish instead of failing' },
  mermaid: { type: 'boolean', help: 'print the DAG as a Mermaid flowchart' },
  segments: { type: 'boolean', help: 'plan: print the segments (the jobs of the generated workflow, by runs-on and shards) instead of the levels' },
  limit: { type: 'string', value: 'n', help: 'most runs to show (default 20)' },
  table: { type: 'boolean', help: 'print a table even when stdout is not a terminal' },
  // compile and init (branch compile)
  check: { type: 'boolean', help: 'change nothing: print the diff and exit 1 when a generated workflow is stale or missing' },
  action: { type: 'string', value: 'ref', help: "the weir action the workflows use: an owner (uses owner/weir@v1), owner/repo[@ref], or './' (default: OWNER, a placeholder)" },
  force: { type: 'boolean', help: 'init: overwrite files that already exist; run: run a paused pipeline, or an interval that already succeeded' },
  // catch-up and pause (catch-up issue)
  trigger: { type: 'string', value: 'manual|schedule', help: "schedule: run the intervals the ledger says are due (what the workflow's cron calls)" },
  reason: { type: 'string', value: 'text', help: 'why the pipeline is paused (recorded in the ledger)' },
  ledger: { type: 'string', value: 'fs|git[:branch]', help: 'read the local ledger or a fetched ledger branch (default: fs; git:weir-ledger when .weir/ledger is absent and the branch exists)' },
  // weir reports (artifacts branch)
  repo: { type: 'string', value: 'owner/name', help: 'GitHub repository (default: GITHUB_REPOSITORY, else the origin remote)' },
  out: { type: 'string', value: 'dir', help: 'output folder (reports: unzipped into weir-reports/<run id>; site: weir-site/)' },
  // weir site (site branch) ↓
  serve: { type: 'boolean', help: 'after writing the site, preview it on http://127.0.0.1 until Ctrl-C' },
  port: { type: 'string', value: 'n', help: 'port of the --serve preview (default 4173; 0 picks a free one)' },
  // backfill (backfill branch) ↓ (backfill reads --from as its first date)
  to: { type: 'string', value: 'date', help: 'last day (YYYY-MM-DD, included) or instant (excluded) of the range' },
  reprocess: { type: 'string', value: 'missing|failed|all', help: 'intervals to run: never ran, never succeeded (default), every one' },
  'max-parallel': { type: 'string', value: 'n', help: "runs at once (default 1; at most the pipeline's max_active_runs)" },
  'newest-first': { type: 'boolean', help: 'run the newest interval first (default: oldest first)' },
  'dry-run': { type: 'boolean', help: 'list each interval and what would happen to it; write nothing' },
  // fan-out (segments) ↓
  handoff: { type: 'string', value: 'dir', help: 'folder the jobs of a run split into segments share (plan --segments starts the run there)' },
  segment: { type: 'string', value: 'id', help: 'run one segment of a run planned with plan --segments --handoff (see plan --segments)' },
  shard: { type: 'string', value: 'i/N', help: 'with --segment: which shard of a sharded segment (1/N … N/N)' },
  // gates (gates issue) ↓
  pipeline: { type: 'string', value: 'name', help: 'flags: the pipeline whose flag to change (default: a global flag every pipeline sees)' },
  key: { type: 'string', value: 'key', help: 'flags: change the flag for this key only (e.g. a document id)' },
} as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

/** Options every command takes. */
export const GLOBAL_OPTIONS: readonly OptionName[] = ['root', 'debug', 'help', 'version'];

export interface CommandSpec {
  usage: string;
  summary: string;
  options: readonly OptionName[];
  /** Extra lines under the command's help. */
  notes?: string;
}

export const COMMANDS = {
  validate: {
    usage: 'weir validate [paths…]',
    summary: 'check pipeline files (default: every pipeline in pipelines/)',
    options: ['json'],
    notes: 'Paths are files or folders, relative to the current folder. Exit 2 when any file has an error.',
  },
  plan: {
    usage: 'weir plan <pipeline…> [--segments] | weir plan <pipeline> --handoff <dir>',
    summary: 'print the DAG and its parallel levels, or its segments; with --handoff, start a run split into segments',
    options: ['json', 'mermaid', 'only', 'from', 'segments', 'handoff', 'param', 'date', 'interval'],
    notes: 'With --segments: one block per segment (runs-on, stages, needs, the tables handed in and out, shards); --json adds segments and the job matrix to the plan, --mermaid draws one subgraph per segment. With --handoff <dir>: starts a run (its id, params and interval in <dir>) and prints the command of every job (docs/fan-out.md).',
  },
  run: {
    usage: 'weir run <pipeline…> | --all',
    summary: 'validate, then run pipelines',
    options: ['json', 'quiet', 'verbose', 'all', 'param', 'only', 'from', 'interval', 'date', 'concurrency', 'resume', 'wait', 'trigger', 'force', 'segment', 'shard', 'handoff'],
    notes: "'weir run <pipeline> --help' also lists the pipeline's params. With --trigger schedule each due interval runs as its own run; a paused pipeline records a skip. A paused pipeline runs by hand only with --force. With --segment and --handoff it runs one segment of a run planned by 'weir plan --segments --handoff' (exit 1 when the segment failed).",
  },
  finalize: {
    usage: 'weir finalize [run-id] --handoff <dir>',
    summary: 'join the segments of a run split across jobs into one run record in the ledger',
    options: ['json', 'quiet', 'verbose', 'handoff', 'wait'],
    notes: 'The run id defaults to the only run in the hand-off folder. Exit 0 when the run succeeded (or was already recorded), 1 when it failed.',
  },
  history: {
    usage: 'weir history [pipeline | run-id]',
    summary: "past runs, or one run's stages and attempts",
    options: ['json', 'table', 'limit', 'ledger'],
    notes: 'A unique prefix of a run id is enough. A table on a terminal, JSON when piped.',
  },
  status: {
    usage: 'weir status [pipeline]',
    summary: "each pipeline's schedule, last run, last success and next tick",
    options: ['json', 'table', 'ledger'],
  },
  // compile and init (branch compile)
  compile: {
    usage: 'weir compile [--check]',
    summary: 'write .github/workflows/ for pipelines with a schedule or params, and a PR validation workflow',
    options: ['check', 'action'],
    notes: 'Exit 1 with --check when a workflow is stale or missing, 2 when a pipeline is invalid. docs/workflows.md describes the files.',
  },
  init: {
    usage: 'weir init [--force]',
    summary: 'scaffold a project: weir.yml, an example pipeline with its data, .gitignore entries, workflows',
    options: ['force', 'action'],
    notes: 'Never overwrites a file without --force (exit 2 naming it).',
  },
  // notify (reports issue) ↓
  notify: {
    usage: 'weir notify test <channel>',
    summary: 'send a test message through a channel of weir.yml',
    options: ['json'],
    notes: 'Exit 0 when sent, 1 when the send failed after its retries, 2 when the channel is unknown or its environment variables are unset.',
  },
  // weir reports (artifacts branch)
  reports: {
    usage: 'weir reports <run-id>',
    summary: "download a run's report artifact from GitHub Actions",
    options: ['repo', 'out'],
    notes: 'Needs GITHUB_TOKEN or GH_TOKEN with read access to the repository (actions: read).',
  },
  // backfill and retry (backfill branch) ↓
  backfill: {
    usage: 'weir backfill <pipeline> --from <date> --to <date>',
    summary: 'run the past intervals of a pipeline that are missing or failed, each as its own run',
    options: ['json', 'from', 'to', 'reprocess', 'max-parallel', 'newest-first', 'dry-run', 'param'],
    notes: 'Intervals are schedule ticks (UTC days for an unscheduled pipeline) starting in the range. Exit 1 when an interval failed.',
  },
  retry: {
    usage: 'weir retry <run-id>',
    summary: "run again a run's failed stages and what depends on them, reusing the rest: a new attempt of the run",
    options: ['json', 'verbose'],
    notes: "Same params and interval. Exit 2 when the run succeeded or is unknown, 1 when the attempt failed.",
  },
  // catch-up and pause (catch-up issue) ↓
  pause: {
    usage: 'weir pause <pipeline> --reason <text>',
    summary: 'stop scheduled runs of a pipeline (recorded in the ledger: who, when, why)',
    options: ['reason', 'json'],
    notes: 'Scheduled triggers of a paused pipeline record a skipped run; a run by hand needs --force. Who: USER, or GITHUB_ACTOR in Actions.',
  },
  unpause: {
    usage: 'weir unpause <pipeline>',
    summary: 'resume scheduled runs of a pipeline; the next trigger catches up as schedule.catchup says',
    options: ['json'],
  },
  // weir site (site branch) ↓
  site: {
    usage: 'weir site [--out dir] [--serve]',
    summary: 'write the static status site from the ledger: every pipeline, a page per run',
    options: ['out', 'serve', 'port', 'limit', 'ledger'],
    notes: 'Writes index.html and runs/<run id>.html into --out (default: weir-site/ under the project root); --limit is the runs shown per pipeline (default 30). docs/site.md publishes it to GitHub Pages.',
  },
  // weir doctor (gpu branch, issue 10) ↓
  doctor: {
    usage: 'weir doctor',
    summary: 'what this machine offers (Node, DuckDB, GPUs, git, the ledger) and what each pipeline needs of it',
    options: ['json'],
    notes: "✓ present, ✗ missing, ! worth knowing, · a fact. Exit 0 when everything needed is here, 1 when something a pipeline needs is missing (a GPU, an environment variable, an executable script), 2 on bad usage. Outside a project it checks the machine only. WEIR_GPU=1 lifts a pipeline's GPU requirement (tests, demos).",
  },
  // gates (gates issue) ↓
  flags: {
    usage: 'weir flags [pipeline] | set <name>=<value>… | unset <name>…',
    summary: 'list, set or unset the ledger flags that gate stages wait on',
    options: ['json', 'pipeline', 'key', 'ledger'],
    notes: "Values are JSON when they parse (true, 3, \"text\"), else text. Without --pipeline a flag is global. A parked run resumes at its pipeline's next trigger (weir run, or the schedule).",
  },
  help: { usage: 'weir help [command]', summary: 'show help for weir or one command', options: [] },
  version: { usage: 'weir version', summary: 'print the version', options: [] },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

export function isCommand(name: string): name is CommandName {
  return Object.hasOwn(COMMANDS, name);
}

/** The options table for node:util parseArgs. */
export function parseArgsOptions(): ParseArgsOptionsConfig {
  return Object.fromEntries(
    // parseArgs refuses keys present with an undefined value: copy only the ones set.
    Object.entries(OPTIONS).map(([name, o]: [string, OptionSpec]) => [name, { type: o.type, ...(o.multiple && { multiple: true }), ...(o.short && { short: o.short }) }]),
  );
}

function optionLabel(name: OptionName): string {
  const option: OptionSpec = OPTIONS[name];
  const short = option.short ? `, -${option.short}` : '';
  return `--${name}${option.value ? ` <${option.value}>` : ''}${short}`;
}

function optionLines(names: readonly OptionName[]): string[] {
  const width = Math.max(...names.map((n) => optionLabel(n).length));
  return names.map((name) => `  ${optionLabel(name).padEnd(width)}  ${OPTIONS[name].help}`);
}

const EXIT_CODES = 'Exit codes: 0 success, 1 a run failed (or an unexpected error), 2 usage or configuration error.';

export function renderHelp(): string {
  const entries = Object.values(COMMANDS);
  const width = Math.max(...entries.map((c) => c.usage.length));
  return [
    'weir — pipelines-as-code on an embedded DuckDB',
    '',
    'Usage:',
    ...entries.map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
    '',
    'Options of every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    "Run 'weir help <command>' or 'weir <command> --help' for a command's options.",
    EXIT_CODES,
  ].join('\n');
}

export function renderCommandHelp(name: CommandName): string {
  const command: CommandSpec = COMMANDS[name];
  const lines = [`Usage: ${command.usage}`, '', `${command.summary[0].toUpperCase()}${command.summary.slice(1)}.`];
  if (command.notes) lines.push(command.notes);
  if (command.options.length) lines.push('', 'Options:', ...optionLines(command.options));
  lines.push('', 'Options of every command:', ...optionLines(GLOBAL_OPTIONS));
  return lines.join('\n');
}
