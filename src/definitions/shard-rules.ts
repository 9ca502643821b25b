/**
 * Rules about sharding (`shards`, `shard_by`, `shard_table`): a sharded stage runs as N matrix jobs
 * over a partition of one input table, so it needs exactly one table to partition and a kind that
 * can run over part of it. The bound (at most 256, GitHub's matrix limit) lives in the schema.
 */
import { didYouMean } from '../model/did-you-mean.ts';
import { upstreamOf } from '../planner/graph.ts';
import { kindProducesTable, stageTable } from '../planner/plan.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { asRecord, report, type RuleContext } from './rule-context.ts';

export const SHARD_CODES = {
  /** shard_by or shard_table without shards. */
  withoutShards: 'WEIR308',
  /** No single input table to partition, or shard_table names a table that is not upstream. */
  input: 'WEIR309',
  /** A kind that leaves no table and is not a command cannot run over a partition. */
  kind: 'WEIR310',
} as const;

/** Kinds that take their input table another way than producing one (`with.input`). */
const SHARDABLE_WITHOUT_TABLE = new Set(['command']);

export function checkShards(ctx: RuleContext, stages: Record<string, unknown>, kinds: StageKindRegistry): void {
  const raw = new Map(Object.entries(stages).map(([name, value]) => [name, asRecord(value)]));
  let deps: Map<string, string[]> | undefined;
  const tableOf = (name: string): string | undefined => {
    const stage = raw.get(name);
    return typeof stage?.uses === 'string' ? stageTable(name, stage.with, kinds.get(stage.uses)) : undefined;
  };
  for (const [name, stage] of raw) {
    if (!stage || (stage.shards === undefined && stage.shard_by === undefined && stage.shard_table === undefined)) continue;
    if (stage.shards === undefined) {
      for (const field of ['shard_by', 'shard_table'] as const) {
        if (stage[field] === undefined) continue;
        report(ctx, SHARD_CODES.withoutShards, ['stages', name, field], `stage '${name}' has ${field} but no shards: add shards: N (2–256) to run it as N jobs, or remove ${field}`, { key: true });
      }
      continue;
    }
    // A shards value of the wrong type or range is the schema's to report.
    if (typeof stage.shards !== 'number') continue;
    checkKind(ctx, name, stage, kinds);
    const direct = needsOf(stage).flatMap((need) => tableOf(need) ?? []);
    if (typeof stage.shard_table === 'string') {
      deps ??= dependencyMap(raw);
      const stagesUpstream = [...upstreamOf(deps, [name])].filter((n) => n !== name);
      const upstream = [...new Set(stagesUpstream.flatMap((n) => tableOf(n) ?? []))].sort();
      if (upstream.includes(stage.shard_table)) continue;
      // shard_table names the table, which is not always the stage's name (with.table).
      const byStage = stagesUpstream.includes(stage.shard_table) ? tableOf(stage.shard_table) : undefined;
      const hint = byStage ? `: stage '${stage.shard_table}' leaves table '${byStage}', so write shard_table: ${byStage}` : didYouMean(stage.shard_table, upstream);
      const known = upstream.length ? `; tables upstream of it: ${upstream.join(', ')}` : '; no stage upstream of it produces a table';
      report(ctx, SHARD_CODES.input, ['stages', name, 'shard_table'], `stage '${name}' partitions table '${stage.shard_table}', which no stage upstream of it produces${hint}${known}`);
    } else if (direct.length === 0) {
      report(ctx, SHARD_CODES.input, ['stages', name, 'shards'], `stage '${name}' has shards but none of the stages it needs produces a table to partition: add the stage whose table it reads to its needs`, { key: true });
    } else if (new Set(direct).size > 1) {
      report(ctx, SHARD_CODES.input, ['stages', name, 'shards'], `stage '${name}' has shards and needs several tables (${[...new Set(direct)].join(', ')}): name the one to partition with shard_table`, { key: true });
    }
  }
}

function checkKind(ctx: RuleContext, name: string, stage: Record<string, unknown>, kinds: StageKindRegistry): void {
  if (typeof stage.uses !== 'string' || SHARDABLE_WITHOUT_TABLE.has(stage.uses)) return;
  const kind = kinds.get(stage.uses);
  // An unknown kind is WEIR301's.
  if (!kind || kindProducesTable(kind, stage.with)) return;
  report(ctx, SHARD_CODES.kind, ['stages', name, 'shards'], `stage '${name}' uses '${stage.uses}', which produces no table, so it cannot be sharded: shard a stage that produces one (such as sql) or a command stage`, { key: true });
}

function needsOf(stage: Record<string, unknown>): string[] {
  if (typeof stage.needs === 'string') return [stage.needs];
  return Array.isArray(stage.needs) ? stage.needs.filter((n): n is string => typeof n === 'string') : [];
}

function dependencyMap(raw: ReadonlyMap<string, Record<string, unknown> | undefined>): Map<string, string[]> {
  return new Map([...raw].map(([name, stage]) => [name, stage ? needsOf(stage) : []]));
}
