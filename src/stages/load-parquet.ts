/**
 * `uses: load` into a Parquet dataset folder. Every change is a new file written beside its target
 * under a temporary name (which `*.parquet` globs skip) and renamed over it, so readers and a failed
 * or killed load see the old file or the new one, never a part:
 *   replace_interval  <dataset>/<partition>=<interval>/data.parquet, one folder per interval
 *   merge             <dataset>/data.parquet: the old rows without the loaded keys, plus the loaded rows
 * Read it back with read_parquet('<dataset>/**\/*.parquet', hive_partitioning = true).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteLiteral } from '../model/database.ts';
import { assertInsideInterval, assertUniqueKeys, keyMatch, type LoadInterval, type LoadOutcome, type LoadSource, type LoadWith } from './load.ts';
import type { StageContext } from './stage-kind.ts';
import { withTargetLock } from './target-lock.ts';

const DAY_MS = 86_400_000;
export const DATA_FILE = 'data.parquet';

/**
 * The folder value of an interval: its start date when it is whole UTC days (2026-01-01), else its
 * start instant in ISO 8601 basic form (20260101T050000Z), which holds no ':' (refused in artifact paths).
 */
export function partitionValue(interval: LoadInterval): string {
  const start = new Date(interval.start);
  const length = Date.parse(interval.end) - start.getTime();
  const iso = start.toISOString();
  if (iso.endsWith('T00:00:00.000Z') && length > 0 && length % DAY_MS === 0) return iso.slice(0, 10);
  return `${iso.slice(0, 19).replaceAll('-', '').replaceAll(':', '')}Z`;
}

export async function loadIntoDataset(ctx: StageContext, config: LoadWith, source: LoadSource, interval: LoadInterval): Promise<LoadOutcome> {
  const dataset = ctx.writePath(config.dataset!, 'with.dataset');
  if (config.mode === 'merge') await assertUniqueKeys(ctx, source, config.key!);
  else if (config.time_column !== undefined) await assertInsideInterval(ctx, source, config.time_column, interval);
  const folder = config.mode === 'merge' ? '' : `${config.partition ?? 'dt'}=${partitionValue(interval)}`;
  const file = join(dataset, folder, DATA_FILE);
  await mkdir(join(dataset, folder), { recursive: true });
  return withTargetLock(dataset, ctx.signal, async () => {
    // Holding the lock, no other load is writing here: a temporary file left is a killed load's.
    for (const name of await readdir(join(dataset, folder))) if (name.startsWith(`.${DATA_FILE}.`) && name.endsWith('.tmp')) await rm(join(dataset, folder, name), { force: true });
    const temp = join(dataset, folder, `.${DATA_FILE}.${ctx.runId}.tmp`);
    const old = existsSync(file) ? `read_parquet(${quoteLiteral(file)})` : undefined;
    try {
      const replaced = old === undefined ? 0 : Number(await ctx.db.scalar(replacedSql(config, old, source), ctx.signal));
      const rows = config.mode === 'merge' && old !== undefined
        ? `SELECT * FROM ${old} AS t WHERE NOT EXISTS (SELECT 1 FROM ${source.relation} AS s WHERE ${keyMatch(config.key!, 't', 's')}) UNION ALL BY NAME SELECT * FROM ${source.relation}`
        : `SELECT * FROM ${source.relation}`;
      const inserted = Number(await ctx.db.scalar(`SELECT count(*) FROM ${source.relation}`, ctx.signal));
      await ctx.db.exec(`COPY (${rows}) TO ${quoteLiteral(temp)} (FORMAT parquet)`, ctx.signal);
      // The last step: nothing after it can fail, so an error always means the target is unchanged.
      await rename(temp, file);
      return { inserted, replaced, where: join(config.dataset!, folder, DATA_FILE) };
    } finally {
      await rm(temp, { force: true });
    }
  });
}

/** How many old rows the load replaces: the whole old slice, or the old rows with a loaded key. */
function replacedSql(config: LoadWith, old: string, source: LoadSource): string {
  if (config.mode === 'replace_interval') return `SELECT count(*) FROM ${old}`;
  return `SELECT count(*) FROM ${old} AS t WHERE EXISTS (SELECT 1 FROM ${source.relation} AS s WHERE ${keyMatch(config.key!, 't', 's')})`;
}
