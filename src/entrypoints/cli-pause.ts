/**
 * `weir pause <pipeline> --reason …` and `weir unpause <pipeline>`: the pause state goes into the
 * ledger runs use (`.weir/ledger/<pipeline>/control.json`), with who (GITHUB_ACTOR in Actions,
 * else USER), when and why.
 */
import { setPaused } from '../use-cases/scheduled-run.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';
import { createLocalRunDeps } from './local-run-deps.ts';

export function pauseCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (!values.reason?.trim()) throw new UsageError("'weir pause' needs --reason <text>: say why, so whoever finds it paused knows when to unpause it");
  return changePause(args, values, io, true);
}

export function unpauseCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  return changePause(args, values, io, false);
}

async function changePause(args: string[], values: CliValues, io: Io, paused: boolean): Promise<number> {
  const verb = paused ? 'pause' : 'unpause';
  if (args.length !== 1) throw new UsageError(`'weir ${verb}' takes one pipeline name, got ${args.length === 0 ? 'none' : `'${args.join(' ')}'`}`);
  const [pipeline] = args;
  const root = rootOf(values, io);
  if (!(await createCliDeps(root).isPipeline(pipeline))) throw new UsageError(`no pipeline '${pipeline}' in ${root}/pipelines: 'weir status' lists them`);
  const { ledger } = createLocalRunDeps({ root, env: io.env });
  const by = io.env.GITHUB_ACTOR || io.env.USER || 'unknown';
  const control = await setPaused({ pipeline, paused, by, reason: values.reason?.trim() }, { ledger, now: () => new Date() });
  if (values.json) io.out(JSON.stringify({ pipeline, ...control }, null, 2));
  else io.out(paused ? `${pipeline}: paused by ${by} (${control.reason}); scheduled triggers now record a skip, and 'weir run' needs --force` : `${pipeline}: unpaused by ${by}; the next scheduled trigger catches up as schedule.catchup says`);
  return EXIT.ok;
}
