/**
 * Stage watermarks: a stage that declares `with.watermark: { column }` saves the largest value of
 * that column in the table it produced, under its own name, as its state commit. The ledger applies
 * the commit only when the whole run succeeds and keeps the later of old and new (laterWatermark),
 * so a watermark never moves backwards; `{{ watermark.<stage> }}` reads it in the next run.
 */
import { z } from 'zod';
import { quoteIdent } from '../model/database.ts';
import { PermanentStageError } from '../policies/errors.ts';
import type { StageContext, StateCommit } from './stage-kind.ts';

export const WatermarkWith = z
  .strictObject({
    column: z.string().min(1).describe('Column whose largest value in the stage\'s table becomes the stage\'s watermark when the run succeeds.'),
  })
  .describe("Save max(column) of the stage's table as its watermark, read next run as {{ watermark.<stage> }}. Default: none.");
export type WatermarkWith = z.infer<typeof WatermarkWith>;

/**
 * The commit saving max(`column`) of `table` as the stage's watermark, or undefined when the table
 * is empty (the saved watermark stays). The value is DuckDB's text of the value (`2026-01-02
 * 03:04:05` for a TIMESTAMP), which reads back in SQL as the same value.
 */
export async function readWatermark(ctx: StageContext, table: string, watermark: WatermarkWith): Promise<StateCommit | undefined> {
  let value: unknown;
  try {
    value = await ctx.db.scalar(`SELECT CAST(max(${quoteIdent(watermark.column)}) AS VARCHAR) FROM ${quoteIdent(table)}`, ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw new PermanentStageError(
      `stage '${ctx.stage}': cannot read watermark column '${watermark.column}' of table ${table}: ${(error as Error).message}; fix with.watermark.column — not retried`,
      { cause: error, stage: ctx.stage },
    );
  }
  if (value === null || value === undefined) return undefined;
  return { watermarks: { [ctx.stage]: String(value) } };
}
