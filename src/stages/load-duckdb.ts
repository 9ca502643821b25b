/**
 * `uses: load` into a DuckDB database file. The file is attached to the run's database and changed
 * in one transaction on a connection of its own: the delete of the old slice (or of the rows whose
 * key is loaded) and the insert commit together or not at all, so a failure or a killed process
 * leaves the target as it was. The target table is created from the rows on the first load.
 */
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { quoteIdent, quoteLiteral } from '../model/database.ts';
import { assertInsideInterval, assertUniqueKeys, keyMatch, type LoadInterval, type LoadOutcome, type LoadSource, type LoadWith } from './load.ts';
import type { StageContext } from './stage-kind.ts';
import { withTargetLock } from './target-lock.ts';

export async function loadIntoDatabase(ctx: StageContext, config: LoadWith, source: LoadSource, interval: LoadInterval): Promise<LoadOutcome> {
  const file = ctx.writePath(config.database!, 'with.database');
  const table = config.target ?? config.table ?? ctx.stage;
  const doomed = await replacedRows(ctx, config, source, interval);
  await mkdir(dirname(file), { recursive: true });
  return withTargetLock(file, ctx.signal, async () => {
    // One alias per file: attaching one file twice in a database is refused, and the lock keeps loads of it apart.
    const alias = `weir_load_${createHash('sha256').update(file).digest('hex').slice(0, 12)}`;
    await ctx.db.exec(`ATTACH ${quoteLiteral(file)} AS ${quoteIdent(alias)}`, ctx.signal);
    try {
      const target = `${quoteIdent(alias)}.main.${quoteIdent(table)}`;
      const counts = await ctx.db.transaction(async (tx) => {
        await tx.exec(`CREATE TABLE IF NOT EXISTS ${target} AS SELECT * FROM ${source.relation} LIMIT 0`);
        const [deleted] = await tx.query(`DELETE FROM ${target} AS t WHERE ${doomed}`);
        const [inserted] = await tx.query(`INSERT INTO ${target} BY NAME SELECT * FROM ${source.relation}`);
        return { replaced: Number(deleted?.Count ?? 0), inserted: Number(inserted?.Count ?? 0) };
      }, ctx.signal);
      return { ...counts, where: `${config.database}#${table}` };
    } finally {
      await ctx.db.exec(`DETACH ${quoteIdent(alias)}`).catch(() => undefined);
    }
  });
}

/** The condition on target rows `t` that the load replaces, once the loaded rows are checked: the rows with a loaded key, or the interval's rows. */
async function replacedRows(ctx: StageContext, config: LoadWith, source: LoadSource, interval: LoadInterval): Promise<string> {
  if (config.mode === 'replace_interval') return assertInsideInterval(ctx, source, config.time_column!, interval);
  await assertUniqueKeys(ctx, source, config.key!);
  return `EXISTS (SELECT 1 FROM ${source.relation} AS s WHERE ${keyMatch(config.key!, 't', 's')})`;
}
