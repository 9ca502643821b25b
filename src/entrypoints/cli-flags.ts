/**
 * `weir flags [<pipeline>]`, `weir flags set <name>=<value>… [--pipeline p] [--key k]` and
 * `weir flags unset <name>… [--pipeline p] [--key k]` (gates issue): the ledger's flags, which `gate`
 * stages wait on. Without --pipeline a flag is global (every pipeline's gates see it). Setting a
 * flag resumes nothing by itself: the pipeline's next trigger (`weir run`, the schedule) does.
 * `--ledger git[:branch]` reads or writes the flags on the ledger branch (a commit pushed to origin).
 */
import { GLOBAL_FLAG_SCOPE, parseFlagAssignment, type Flag } from '../ledger/flags.ts';
import { changeFlags, listFlags } from '../use-cases/flags.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';
import { renderTable } from '../report/terminal.ts';
import { createLocalRunDeps } from './local-run-deps.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';

/** The local ledger, unless --ledger names one (never picked implicitly: a write must go where asked). */
function flagLedger(root: string, values: CliValues, io: Io): LedgerStore {
  return values.ledger ? createCliDeps(root, { ledger: values.ledger }).ledger : createLocalRunDeps({ root, env: io.env }).ledger;
}

export async function flagsCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const [verb, ...rest] = args;
  if (verb === 'set' || verb === 'unset') return changeCommand(verb, rest, values, io);
  if (args.length > 1) throw new UsageError(`'weir flags' takes at most one pipeline name, got '${args.join(' ')}'; to change flags: weir flags set <name>=<value> [--pipeline p] [--key k]`);
  const root = rootOf(values, io);
  if (verb !== undefined) await assertPipeline(root, verb);
  const flags = await listFlags(flagLedger(root, values, io), verb);
  if (values.json) io.out(JSON.stringify(flags, null, 2));
  else if (flags.length === 0) io.out(`no flags${verb ? ` for '${verb}'` : ''}: set one with 'weir flags set <name>=<value>${verb ? ` --pipeline ${verb}` : ''}'`);
  else io.out(renderTable(['scope', 'name', 'key', 'value', 'by', 'at'], flags.map(row)));
  return EXIT.ok;
}

function row(flag: Flag): string[] {
  return [flag.scope === GLOBAL_FLAG_SCOPE ? 'global' : flag.scope, flag.name, flag.key ?? '', JSON.stringify(flag.value), flag.by, flag.at];
}

async function assertPipeline(root: string, pipeline: string): Promise<void> {
  if (!(await createCliDeps(root).isPipeline(pipeline))) throw new UsageError(`no pipeline '${pipeline}' in ${root}/pipelines: 'weir status' lists them`);
}

async function changeCommand(verb: 'set' | 'unset', args: string[], values: CliValues, io: Io): Promise<number> {
  const example = verb === 'set' ? 'weir flags set pdf_ir_ready=true [--pipeline p] [--key k]' : 'weir flags unset pdf_ir_ready [--pipeline p] [--key k]';
  if (args.length === 0) throw new UsageError(`'weir flags ${verb}' needs at least one flag, e.g. ${example}`);
  const flags = args.map((arg) => {
    if (verb === 'unset') {
      if (arg.includes('=')) throw new UsageError(`'weir flags unset' takes names, not '${arg}': ${example}`);
      return { name: arg };
    }
    const parsed = parseFlagAssignment(arg);
    if (!parsed) throw new UsageError(`'${arg}' is not <name>=<value> (the value is JSON when it parses: true, 3, "text", else text): ${example}`);
    return parsed;
  });
  const root = rootOf(values, io);
  if (values.pipeline !== undefined) await assertPipeline(root, values.pipeline);
  if (values.key !== undefined && values.key === '') throw new UsageError('--key needs a value, e.g. --key doc-42');
  const ledger = flagLedger(root, values, io);
  const by = io.env.GITHUB_ACTOR || io.env.USER || 'unknown';
  const result = await changeFlags({ flags, unset: verb === 'unset', pipeline: values.pipeline, key: values.key, by }, { ledger, now: () => new Date() });
  if (values.json) {
    io.out(JSON.stringify({ flags: result.written, ...(result.parked ? { parkedRun: result.parked.runId } : {}) }, null, 2));
    return EXIT.ok;
  }
  const where = `${values.pipeline ? `pipeline ${values.pipeline}` : 'global'}${values.key ? `, key ${values.key}` : ''}`;
  const what = result.written.map((w) => (w.unset ? w.name : `${w.name}=${JSON.stringify(w.value)}`)).join(', ');
  io.out(`flags ${verb === 'set' ? 'set' : 'unset'} (${where}) by ${by}: ${what}`);
  if (result.parked) io.out(`run ${result.parked.runId} of '${values.pipeline}' is parked on ${result.parked.waitingOn?.join(', ') ?? 'a gate'}: the next 'weir run ${values.pipeline}' (or scheduled trigger) resumes it`);
  return EXIT.ok;
}
