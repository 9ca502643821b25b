import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandWith, commandStage } from '../../src/stages/command.ts';
import { kindProducesTable } from '../../src/planner/plan.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext({ stage: 'embed' });
  await ctx.db.exec(`CREATE TABLE docs AS SELECT i AS id, 'doc ' || i AS body FROM range(5) t(i)`);
});
afterEach(() => ctx.dispose());

const run = (input: Record<string, unknown>) => commandStage.run(ctx, CommandWith.parse(input));

describe('command stage: tables in and out', () => {
  it('produces a table only when with.table is set', () => {
    expect(kindProducesTable(commandStage, { run: 'true' })).toBe(false);
    expect(kindProducesTable(commandStage, { run: 'true', table: 'out' })).toBe(true);
  });

  for (const format of ['parquet', 'csv', 'json'] as const) {
    it(`hands the input table over as ${format} and reads the output file back as the stage's table`, async () => {
      // DuckDB in the child would be a dependency: the command copies its input through `cat` unless parquet.
      const script = format === 'parquet' ? 'cp "$WEIR_INPUT" "$WEIR_OUTPUT"' : 'cat "$WEIR_INPUT" > "$WEIR_OUTPUT"';
      const result = await run({ run: script, input: 'docs', table: 'copied', format });
      expect(result).toEqual({ table: 'copied', rows: 5, outputs: { exit_code: 0 } });
      expect(await ctx.db.query('SELECT id::INTEGER AS id, body FROM copied ORDER BY id')).toEqual([0, 1, 2, 3, 4].map((i) => ({ id: i, body: `doc ${i}` })));
    });
  }

  it('a command that writes rows of its own: the table holds exactly them', async () => {
    const result = await run({ run: 'printf \'{"id":1,"v":0.5}\\n{"id":2,"v":0.25}\\n\' > "$WEIR_OUTPUT"', table: 'vectors', format: 'json' });
    expect(result.rows).toBe(2);
    expect(await ctx.db.query('SELECT id::INTEGER AS id, v FROM vectors ORDER BY id')).toEqual([{ id: 1, v: 0.5 }, { id: 2, v: 0.25 }]);
  });

  it('fails, naming $WEIR_OUTPUT, when the command writes no output file', async () => {
    await expect(run({ run: 'true', table: 'vectors' })).rejects.toThrow(/exited 0 but wrote no file at \$WEIR_OUTPUT .*must write the table there as parquet/);
  });

  it('fails clearly when the output file is not in the declared format', async () => {
    await expect(run({ run: 'echo "not parquet" > "$WEIR_OUTPUT"', table: 'vectors' })).rejects.toThrow(/could not read the parquet file .* wrote at \$WEIR_OUTPUT/);
  });

  it('refuses an input table the run does not have, permanently, with the fix', async () => {
    await expect(run({ run: 'true', input: 'nope', table: 'x' })).rejects.toThrow(/with.input names table 'nope', which the run does not have/);
  });

  it('gives each attempt fresh files: a stale output of a failed attempt is never read', async () => {
    ctx.attempt = 1;
    await expect(run({ run: 'echo "{\\"id\\":1}" > "$WEIR_OUTPUT"; exit 3', table: 't', format: 'json' })).rejects.toThrow(/exited with code 3/);
    ctx.attempt = 2;
    await expect(run({ run: 'true', table: 't', format: 'json' })).rejects.toThrow(/wrote no file/);
  });
});
