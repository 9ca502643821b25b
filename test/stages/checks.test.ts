import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckFailedError } from '../../src/model/errors.ts';
import { Check } from '../../src/model/pipeline.ts';
import { assertChecksPassed, runChecks } from '../../src/stages/checks.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext();
  await ctx.db.exec(`
    CREATE TABLE rates AS SELECT * FROM (VALUES
      ('EUR', DATE '2024-01-01', 1.0, 'ok'),
      ('USD', DATE '2024-01-01', 1.1, 'ok'),
      ('USD', DATE '2024-01-01', NULL, 'late'),
      (NULL, DATE '2024-01-02', 0.9, NULL)
    ) t(currency, day, rate, status)`);
});
afterAll(() => ctx.dispose());

async function check(input: unknown) {
  const [result] = await runChecks(ctx.db, 'rates', [Check.parse(input)]);
  return result!;
}

describe('runChecks', () => {
  it('passes not_null when the columns have no NULLs', async () => {
    expect(await check({ not_null: ['day'] })).toMatchObject({ name: 'not_null(day)', kind: 'not_null', passed: true, failing: 0 });
  });

  it('fails not_null with the number of offending rows and a count per column', async () => {
    const result = await check({ not_null: ['currency', 'rate'] });
    expect(result).toMatchObject({ passed: false, failing: 2, severity: 'error' });
    expect(result.message).toBe('not_null(currency, rate): 2 rows have NULL (currency: 1, rate: 1)');
  });

  it('fails unique with the duplicated key and ignores rows with a NULL key', async () => {
    const result = await check({ unique: ['currency', 'day'] });
    expect(result).toMatchObject({ passed: false, failing: 2 });
    expect(result.message).toBe('unique(currency, day): 1 duplicated value covering 2 rows, e.g. (USD, 2024-01-01)');
    expect(await check({ unique: ['rate'] })).toMatchObject({ passed: true });
  });

  it('fails accepted_values on other values but lets NULL pass', async () => {
    expect(await check({ accepted_values: { column: 'status', values: ['ok', 'late'] } })).toMatchObject({ passed: true });
    const result = await check({ accepted_values: { column: 'status', values: ['ok'] } });
    expect(result).toMatchObject({ passed: false, failing: 1 });
    expect(result.message).toBe("accepted_values(status): 1 row has other values, e.g. 'late'");
  });

  it('compares accepted numbers against a numeric column', async () => {
    expect(await check({ accepted_values: { column: 'rate', values: [1, 1.1, 0.9] } })).toMatchObject({ passed: true });
  });

  it('checks row_count against min and max', async () => {
    expect(await check({ row_count: { min: 1, max: 4 } })).toMatchObject({ passed: true, failing: 4 });
    expect((await check({ row_count: { min: 5 } })).message).toBe('row_count: 4 rows, expected at least 5');
    expect((await check({ row_count: { max: 3 } })).message).toBe('row_count: 4 rows, expected at most 3');
  });

  it('fails an expression on rows where it is false or NULL', async () => {
    const result = await check({ expression: 'rate > 0.95', name: 'rate_not_tiny' });
    expect(result).toMatchObject({ name: 'rate_not_tiny', kind: 'expression', passed: false, failing: 2 });
    expect(result.message).toBe('rate_not_tiny: 2 rows have a false or NULL result');
  });

  it('reports a missing column as a failed check with the DuckDB message instead of throwing', async () => {
    const result = await check({ not_null: ['nope'] });
    expect(result.passed).toBe(false);
    expect(result.message).toMatch(/^not_null\(nope\): could not run the check on "rates": Binder Error: .*"nope"/);
  });

  it('runs a check against its own table when it names one', async () => {
    await ctx.db.exec('CREATE TABLE other AS SELECT 1 AS x');
    expect(await check({ row_count: { min: 1, max: 1 }, table: 'other' })).toMatchObject({ passed: true, failing: 1 });
  });
});

describe('assertChecksPassed', () => {
  it('throws CheckFailedError listing only the failed error-severity checks', async () => {
    const results = await runChecks(ctx.db, 'rates', [
      Check.parse({ not_null: ['currency'] }),
      Check.parse({ row_count: { min: 10 }, severity: 'warn' }),
      Check.parse({ not_null: ['day'] }),
    ]);
    expect(() => assertChecksPassed(results, 'clean')).toThrow(CheckFailedError);
    expect(() => assertChecksPassed(results, 'clean')).toThrow(/stage 'clean': 1 check failed:\n {2}- not_null\(currency\): 1 row has NULL\n/);
  });

  it('does not throw when only warn-severity checks fail', async () => {
    const results = await runChecks(ctx.db, 'rates', [Check.parse({ row_count: { min: 10 }, severity: 'warn' })]);
    expect(results[0]).toMatchObject({ passed: false, severity: 'warn' });
    expect(() => assertChecksPassed(results, 'clean')).not.toThrow();
  });
});
