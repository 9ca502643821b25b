/** `weir history` and `weir status`: read-only views of the ledger. */
import { join, resolve } from 'node:path';
import { formatDuration } from '../model/duration.ts';
import { FsLedgerStore } from '../ledger/fs-ledger-store.ts';
import type { RunRecord } from '../ledger/run-record.ts';
import { renderRunDetail, renderTable } from '../report/terminal.ts';
import { nextTicks } from '../planner/schedule.ts';
import { validateProject } from '../definitions/validate-project.ts';
import { defaultStageKinds } from '../stages/registry.ts';
import type { CliValues } from './cli.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';

/** History and status print a table on a terminal and JSON when piped, unless told otherwise. */
function wantsJson(values: CliValues, io: Io): boolean {
  return Boolean(values.json) || (!io.isTty && !values.table);
}

function ledgerOf(values: CliValues, io: Io): FsLedgerStore {
  return new FsLedgerStore(join(resolve(io.cwd, values.root ?? '.'), '.weir', 'ledger'));
}

function stageSummary(record: RunRecord): string {
  const stages = Object.values(record.stages);
  const count = (status: string) => stages.filter((s) => s.status === status).length;
  const retries = stages.reduce((n, s) => n + Math.max(0, s.attempts.length - 1), 0);
  return `${count('succeeded')}✔ ${count('failed')}✖ ${count('skipped')}○${retries ? ` ${retries}↻` : ''}`;
}

export async function historyCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  const ledger = ledgerOf(values, io);
  const [target] = args;
  const limit = values.limit === undefined ? 20 : Number(values.limit);
  if (!(Number.isInteger(limit) && limit > 0)) throw new UsageError(`--limit must be a positive integer, got '${values.limit}'`);
  const pipelines = await ledger.pipelines();
  if (target && !pipelines.includes(target)) {
    const run = await ledger.getRun(target);
    if (!run) throw new UsageError(`no pipeline or run '${target}' in the ledger; pipelines with runs: ${pipelines.join(', ') || 'none yet'}`);
    io.out(wantsJson(values, io) ? JSON.stringify(run, null, 2) : renderRunDetail(run));
    return EXIT.ok;
  }
  const runs = await ledger.listRuns({ pipeline: target, limit });
  if (wantsJson(values, io)) {
    io.out(JSON.stringify(runs, null, 2));
    return EXIT.ok;
  }
  if (runs.length === 0) {
    io.out('no runs yet');
    return EXIT.ok;
  }
  const rows = runs.map((r) => [r.runId, r.pipeline, r.status, r.startedAt.replace('T', ' ').slice(0, 19), r.durationMs === undefined ? '' : formatDuration(r.durationMs), stageSummary(r), r.trigger]);
  io.out(renderTable(['run', 'pipeline', 'status', 'started (UTC)', 'took', 'stages', 'trigger'], rows));
  return EXIT.ok;
}

export async function statusCommand(_args: string[], values: CliValues, io: Io): Promise<number> {
  const root = resolve(io.cwd, values.root ?? '.');
  const ledger = ledgerOf(values, io);
  const { pipelines } = await validateProject(['pipelines'], { root, kinds: defaultStageKinds() });
  const names = new Set([...pipelines.map((p) => p.spec.name), ...(await ledger.pipelines())]);
  const now = new Date();
  const status = await Promise.all(
    [...names].sort().map(async (name) => {
      const runs = await ledger.listRuns({ pipeline: name });
      const spec = pipelines.find((p) => p.spec.name === name)?.spec;
      const last = runs[0];
      const lastSuccess = runs.find((r) => r.status === 'succeeded');
      const next = spec?.schedule ? nextTicks(spec.schedule.cron, spec.schedule.timezone, now, 1)[0]?.toISOString() : undefined;
      return { pipeline: name, schedule: spec?.schedule?.cron, lastRun: last && { runId: last.runId, status: last.status, startedAt: last.startedAt }, lastSuccess: lastSuccess?.startedAt, nextTick: next, runs: runs.length };
    }),
  );
  if (wantsJson(values, io)) {
    io.out(JSON.stringify(status, null, 2));
    return EXIT.ok;
  }
  const rows = status.map((s) => [s.pipeline, s.schedule ?? 'manual', s.lastRun?.status ?? 'never run', s.lastRun?.startedAt.slice(0, 19).replace('T', ' ') ?? '', s.lastSuccess?.slice(0, 19).replace('T', ' ') ?? '', s.nextTick?.slice(0, 16).replace('T', ' ') ?? '']);
  io.out(renderTable(['pipeline', 'schedule', 'last run', 'started (UTC)', 'last success', 'next tick (UTC)'], rows));
  return EXIT.ok;
}
