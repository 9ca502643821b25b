/**
 * The Action's inputs (action.yml), read and checked before anything else happens: a wrong input
 * fails the step with a message naming the input and the fix, and nothing is run or written.
 */
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { Interval } from '../model/events.ts';
import { parseIntervalOption } from '../planner/interval.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';

export const ACTION_COMMANDS = ['validate', 'plan', 'run', 'finalize', 'backfill', 'retry', 'pause', 'unpause'] as const;
export type ActionCommand = (typeof ACTION_COMMANDS)[number];

/** The ledger branch used when `ledger-branch` is not given (read once the git ledger lands). */
export const DEFAULT_LEDGER_BRANCH = 'weir-ledger';

export interface ActionInputs {
  command: ActionCommand;
  /** Pipeline names or files; empty: every pipeline under pipelines/. */
  pipelines: string[];
  /** Param values as text, typed by the pipeline's declarations (as `--param k=v`). */
  params: Record<string, string>;
  interval?: Interval;
  ledgerBranch: string;
  token: string;
  /** Names of environment variables whose values are masked in every log line. */
  secretNames: string[];
  /** The project root: `working-directory` under the workspace. */
  root: string;
  /** The repository checkout (GITHUB_WORKSPACE): annotation paths are relative to it. */
  workspace: string;
  // fan-out ↓
  /** `artifacts` with `command: plan`: start a run split into segments, handed on as artifacts. */
  handoff?: 'artifacts';
  /** With `command: run`: the segment of a run started by the plan job to run. */
  segment?: string;
  /** With `segment`: the shard, `i/N`. */
  shard?: { index: number; count: number };
  /** The run a segment or finalize job belongs to (the plan job's `run-id` output). */
  runId?: string;
  // operations from workflow_dispatch ↓
  /** `command: backfill`: the range (dates or instants) and which intervals run again. */
  from?: string;
  to?: string;
  reprocess?: string;
  /** `command: backfill`: list what would run, run nothing. */
  dryRun?: boolean;
  /** `command: pause`: why. */
  reason?: string;
}

/** An input that cannot be used: names the input and says what to write instead. */
export class ActionInputError extends Error {
  constructor(input: string, problem: string, { cause }: { cause?: unknown } = {}) {
    super(`input '${input}': ${problem}`, { cause });
    this.name = 'ActionInputError';
  }
}

/** `a, b` or one name per line; `all` or nothing: every pipeline. */
export function parsePipelineList(text: string): string[] {
  const names = text.split(/[\s,]+/).filter(Boolean);
  return names.length === 1 && names[0] === 'all' ? [] : names;
}

/** A YAML or JSON map of param values (`base: USD` or `{"base":"USD"}`), as text for the pipeline to type. */
export function parseParamsInput(text: string): Record<string, string> {
  if (!text.trim()) return {};
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ActionInputError('params', `is not YAML or JSON (${(error as Error).message.split('\n')[0]}); write a map such as '{ base: USD, days: 3 }'`, { cause: error });
  }
  // `${{ toJSON(inputs) }}` outside a workflow_dispatch (a schedule event) may give null: no params.
  if (value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ActionInputError('params', "must be a map of param names to values, such as '{ base: USD, days: 3 }'");
  }
  const params: Record<string, string> = {};
  for (const [name, item] of Object.entries(value)) {
    if (item !== null && typeof item === 'object') throw new ActionInputError('params', `param '${name}' has a list or map value; params take one value each`);
    params[name] = String(item);
  }
  return params;
}

function parseCommand(text: string): ActionCommand {
  const command = text || 'validate';
  if ((ACTION_COMMANDS as readonly string[]).includes(command)) return command as ActionCommand;
  throw new ActionInputError('command', `'${command}' is not a command; use one of ${ACTION_COMMANDS.join(', ')}`);
}

function parseIntervalInputs(date: string, interval: string): Interval | undefined {
  if (date && interval) throw new ActionInputError('date', "give 'date' or 'interval', not both");
  if (date && !/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new ActionInputError('date', `'${date}' is not a date: write YYYY-MM-DD (for a range, use 'interval: START..END')`);
  const text = interval || date;
  if (!text) return undefined;
  try {
    return parseIntervalOption(text);
  } catch (error) {
    throw new ActionInputError(interval ? 'interval' : 'date', (error as Error).message.replace('--interval ', ''), { cause: error });
  }
}

export function readActionInputs(runtime: ActionsRuntime, env: Readonly<Record<string, string | undefined>>, cwd: string): ActionInputs {
  const workspace = resolve(env.GITHUB_WORKSPACE || cwd);
  return {
    command: parseCommand(runtime.input('command')),
    pipelines: parsePipelineList(runtime.input('pipeline')),
    params: parseParamsInput(runtime.input('params')),
    interval: parseIntervalInputs(runtime.input('date'), runtime.input('interval')),
    ledgerBranch: runtime.input('ledger-branch') || DEFAULT_LEDGER_BRANCH,
    token: runtime.input('token'),
    secretNames: runtime.input('secrets').split(/[\s,]+/).filter(Boolean),
    root: resolve(workspace, runtime.input('working-directory') || '.'),
    workspace,
    ...fanOutInputs(runtime),
    ...operationInputs(runtime),
  };
}

function operationInputs(runtime: ActionsRuntime): Pick<ActionInputs, 'from' | 'to' | 'reprocess' | 'dryRun' | 'reason'> {
  const dryRun = runtime.input('dry-run');
  if (dryRun && !['true', 'false'].includes(dryRun)) throw new ActionInputError('dry-run', `'${dryRun}' is not true or false`);
  const pick = (name: string) => runtime.input(name) || undefined;
  return { from: pick('from'), to: pick('to'), reprocess: pick('reprocess'), dryRun: dryRun === 'true', reason: pick('reason') };
}

function fanOutInputs(runtime: ActionsRuntime): Pick<ActionInputs, 'handoff' | 'segment' | 'shard' | 'runId'> {
  const handoff = runtime.input('handoff');
  if (handoff && handoff !== 'artifacts') throw new ActionInputError('handoff', `'${handoff}' is not a hand-off; the only one in Actions is 'artifacts'`);
  const shardText = runtime.input('shard');
  const match = /^(\d+)\/(\d+)$/.exec(shardText);
  const shard = match ? { index: Number(match[1]), count: Number(match[2]) } : undefined;
  if (shardText && (!shard || shard.index < 1 || shard.index > shard.count)) throw new ActionInputError('shard', `'${shardText}' is not a shard: write i/N with 1 ≤ i ≤ N, e.g. '\${{ matrix.shard }}/4'`);
  const segment = runtime.input('segment');
  if (shard && !segment) throw new ActionInputError('shard', "goes with 'segment': name the segment the shard belongs to");
  return { ...(handoff ? { handoff: 'artifacts' as const } : {}), ...(segment ? { segment } : {}), ...(shard ? { shard } : {}), ...(runtime.input('run-id') ? { runId: runtime.input('run-id') } : {}) };
}

/**
 * Values of the environment variables the `secrets` input names: exact names, or patterns with `*`
 * (`API_*`, `*_TOKEN`) matched against every variable of the step.
 */
export function declaredSecretValues(names: readonly string[], env: Readonly<Record<string, string | undefined>>): string[] {
  const patterns = names.map((name) => new RegExp(`^${name.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`));
  return Object.entries(env).filter(([key, value]) => value !== undefined && patterns.some((p) => p.test(key))).map(([, value]) => value!);
}
