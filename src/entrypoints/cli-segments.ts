/**
 * The distributed path of a run, process by process, sharing a hand-off folder (what the generated
 * workflow does with artifacts, reproduced locally):
 *
 *   weir plan <pipeline> --segments --handoff <dir>          starts a run: its context in <dir>
 *   weir run <pipeline> --segment <id> [--shard i/N] --handoff <dir>   runs one segment (or shard)
 *   weir finalize [run-id] --handoff <dir>                    records the run in this folder's ledger
 *
 * Each may run in a different folder (a different runner): they share only <dir>.
 */
import { FsHandoffStore } from '../adapters/fs-handoff.ts';
import { parseIntervalOption } from '../planner/interval.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import { finalizeRun } from '../use-cases/finalize-run.ts';
import { parseParamPairs, resolveParams } from '../use-cases/params.ts';
import { runSegment, startSegmentedRun } from '../use-cases/run-segment.ts';
import type { CliValues } from './cli.ts';
import { cancelOnSignals } from './cancel-on-signals.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';
import { loadOnePipeline } from './cli-backfill.ts';
import { assertRunArguments, progressPrinter } from './cli-run.ts';
import { createLocalRunDeps } from './local-run-deps.ts';
import { resolve } from 'node:path';

function handoffOf(values: CliValues, io: Io, command: string): FsHandoffStore {
  if (!values.handoff) throw new UsageError(`${command} needs --handoff <dir>: the folder the jobs of the run share`);
  return new FsHandoffStore(resolve(io.cwd, values.handoff));
}

/** `--shard i/N` → { index, count }, refused unless 1 ≤ i ≤ N. */
export function parseShardOption(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (!match || index < 1 || count < 1 || index > count) throw new UsageError(`--shard '${text}' is not a shard: write i/N with 1 ≤ i ≤ N, e.g. --shard 2/4`);
  return { index, count };
}

/** `weir plan <pipeline> --segments --handoff <dir>`: starts a run split into segments. */
export async function planHandoffCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length !== 1) throw new UsageError('plan --handoff starts one run: name one pipeline');
  if (values.only || values.from) throw new UsageError('a run split into segments runs every stage: drop --only and --from');
  const handoff = handoffOf(values, io, 'plan --handoff');
  assertRunArguments(values);
  const root = rootOf(values, io);
  const loaded = await loadOnePipeline(args[0], values, io);
  if (!loaded) return EXIT.usage;
  const { pipeline } = loaded;
  const params = parseParamPairs(values.param ?? []);
  resolveParams(pipeline.spec, params, pipeline.file);
  const text = values.interval ?? values.date;
  const deps = createLocalRunDeps({ root, env: io.env });
  const planned = await startSegmentedRun(
    { pipeline, root, kinds: defaultStageKinds(), policies: loaded.policies, params, interval: text ? parseIntervalOption(text) : undefined },
    deps,
    handoff,
  );
  const { context, segments, matrix } = planned;
  if (values.json) {
    io.out(JSON.stringify({ runId: context.runId, pipeline: context.pipeline, params: context.params, interval: context.interval, handoff: handoff.dir, segments, matrix }, null, 2));
    return EXIT.ok;
  }
  io.out(`planned run ${context.runId} of ${context.pipeline} (${context.interval.start} .. ${context.interval.end}) in ${handoff.dir}: ${segments.length} segment(s)`);
  for (const entry of matrix.include) {
    const shard = entry.shards > 1 ? ` --shard ${entry.shard}/${entry.shards}` : '';
    io.out(`  weir run ${context.pipeline} --segment ${entry.segment}${shard} --handoff ${values.handoff}    # runs-on: ${JSON.stringify(entry['runs-on'])}`);
  }
  io.out(`  weir finalize ${context.runId} --handoff ${values.handoff}`);
  return EXIT.ok;
}

/** `weir run <pipeline> --segment <id> [--shard i/N] --handoff <dir>`. */
export async function segmentRunCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const handoff = handoffOf(values, io, 'run --segment');
  if (args.length !== 1 || values.all) throw new UsageError('run --segment runs one segment of one pipeline: name the pipeline');
  for (const flag of ['only', 'from', 'resume', 'param', 'interval', 'date', 'trigger'] as const) {
    if (values[flag] !== undefined) throw new UsageError(`--${flag} does not apply to a segment: the run's params and interval were fixed by 'weir plan --segments --handoff'`);
  }
  const shard = parseShardOption(values.shard);
  const root = rootOf(values, io);
  const loaded = await loadOnePipeline(args[0], values, io);
  if (!loaded) return EXIT.usage;
  const cancel = cancelOnSignals();
  try {
    const result = await runSegment(
      {
        pipeline: loaded.pipeline, root, kinds: defaultStageKinds(), policies: loaded.policies, allowWritePaths: loaded.allowWritePaths,
        handoff, segment: values.segment!, shard, listeners: [progressPrinter(values, io)], signal: cancel.signal,
        concurrency: values.concurrency === undefined ? undefined : Number(values.concurrency),
        warn: (message) => io.err(`weir: warning: ${message}`),
      },
      createLocalRunDeps({ root, env: io.env }),
    );
    if (values.json) io.out(JSON.stringify(result.report, null, 2));
    else io.out(`segment ${result.report.segment}${result.report.shard ? ` shard ${result.report.shard}/${result.report.shards}` : ''} of run ${result.report.runId}: ${result.report.status}; handed on ${Object.keys(result.report.tables).length} table(s)`);
    const signalled = cancel.received();
    if (signalled) return EXIT.signal(signalled);
    return result.report.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  } finally {
    cancel.dispose();
  }
}

/** `weir finalize [run-id] --handoff <dir>`. */
export async function finalizeCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const handoff = handoffOf(values, io, 'finalize');
  if (args.length > 1) throw new UsageError('finalize records one run: give at most one run id');
  const context = await handoff.readContext(args[0]);
  const root = rootOf(values, io);
  const loaded = await loadOnePipeline(context.pipeline, values, io);
  if (!loaded) return EXIT.usage;
  const cancel = cancelOnSignals();
  try {
    const result = await finalizeRun(
      {
        pipeline: loaded.pipeline, root, kinds: defaultStageKinds(), policies: loaded.policies, channels: loaded.channels, handoff, runId: context.runId,
        listeners: [progressPrinter(values, io)], signal: cancel.signal, wait: values.wait, warn: (message) => io.err(`weir: warning: ${message}`),
      },
      createLocalRunDeps({ root, env: io.env }),
    );
    if (result.missing.length) io.err(`weir: ${result.missing.length} part(s) never reported: ${result.missing.join(', ')}`);
    if (values.json) io.out(JSON.stringify(result.record, null, 2));
    else if (result.alreadyRecorded) io.out(`run ${result.runId} is already recorded (${result.record.status}); nothing written`);
    return result.record.status === 'succeeded' ? EXIT.ok : EXIT.failed;
  } finally {
    cancel.dispose();
  }
}
