import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/model/errors.ts';
import { ExportWith, exportStage } from '../../src/stages/export.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext({ stage: 'save' });
  await ctx.db.exec(`CREATE TABLE rates AS SELECT * FROM (VALUES ('EUR', 1.0), ('USD', 1.1), ('GBP', 0.8)) t(code, rate)`);
});
afterEach(() => ctx.dispose());

const run = (input: Record<string, unknown>) => exportStage.run(ctx, ExportWith.parse(input));
const readBack = (reader: string) => ctx.db.query(`SELECT code, rate::DOUBLE AS rate FROM ${reader} ORDER BY code`);
const expected = [
  { code: 'EUR', rate: 1 },
  { code: 'GBP', rate: 0.8 },
  { code: 'USD', rate: 1.1 },
];

describe('export stage', () => {
  it('writes CSV into new folders and reports rows, path and bytes', async () => {
    const result = await run({ table: 'rates', path: 'data/out/rates.csv' });
    const file = join(ctx.root, 'data/out/rates.csv');
    const text = await readFile(file, 'utf8');
    expect(result).toEqual({ rows: 3, outputs: { path: 'data/out/rates.csv', bytes: Buffer.byteLength(text), format: 'csv' } });
    expect(text.split('\n')[0]).toBe('code,rate');
    expect(await readBack(`read_csv('${file}')`)).toEqual(expected);
  });

  it('writes CSV with a custom delimiter and no header', async () => {
    await run({ table: 'rates', path: 'rates.txt', format: 'csv', options: { header: false, delimiter: ';' } });
    expect((await readFile(join(ctx.root, 'rates.txt'), 'utf8')).split('\n')[0]).toBe('EUR;1.0');
  });

  it('round-trips Parquet with the chosen compression', async () => {
    await run({ table: 'rates', path: 'rates.parquet', options: { compression: 'zstd' } });
    const file = join(ctx.root, 'rates.parquet');
    expect(await readBack(`read_parquet('${file}')`)).toEqual(expected);
    expect(await ctx.db.scalar(`SELECT DISTINCT compression FROM parquet_metadata('${file}')`)).toBe('ZSTD');
  });

  it('writes a JSON array for .json and one object per line for .jsonl', async () => {
    await run({ table: 'rates', path: 'rates.json' });
    expect(JSON.parse(await readFile(join(ctx.root, 'rates.json'), 'utf8'))).toHaveLength(3);
    await run({ query: 'SELECT * FROM rates WHERE rate > 0.9;', path: 'rates.jsonl' });
    const lines = (await readFile(join(ctx.root, 'rates.jsonl'), 'utf8')).trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).code).sort()).toEqual(['EUR', 'USD']);
    expect(await readBack(`read_json_auto('${join(ctx.root, 'rates.json')}')`)).toEqual(expected);
  });

  it('leaves the existing target untouched and no temp file behind when the query fails', async () => {
    await writeFile(join(ctx.root, 'rates.csv'), 'previous export\n');
    const failure = run({ query: "SELECT code, CAST(code AS INTEGER) AS broken FROM rates", path: 'rates.csv' });
    await expect(failure).rejects.toBeInstanceOf(StageFailedError);
    await expect(run({ query: 'SELECT nope FROM rates', path: 'rates.csv' })).rejects.toThrow(/^could not export the query to rates\.csv: Binder Error/);
    expect(await readFile(join(ctx.root, 'rates.csv'), 'utf8')).toBe('previous export\n');
    expect(await readdir(ctx.root)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it('names the missing table when exporting one that does not exist', async () => {
    await expect(run({ table: 'nope', path: 'x.csv' })).rejects.toThrow(/^could not export table nope to x\.csv: Catalog Error/);
  });

  it('writes only the header for an empty result, and gzips a .csv.gz target', async () => {
    expect(await run({ query: 'SELECT * FROM rates WHERE false', path: 'empty.csv' })).toMatchObject({ rows: 0 });
    expect(await readFile(join(ctx.root, 'empty.csv'), 'utf8')).toBe('code,rate\n');
    await run({ table: 'rates', path: 'rates.csv.gz' });
    expect((await readFile(join(ctx.root, 'rates.csv.gz')).then((b) => [b[0], b[1]]))).toEqual([0x1f, 0x8b]);
    expect(await readBack(`read_csv('${join(ctx.root, 'rates.csv.gz')}')`)).toEqual(expected);
  });

  it('asks for a format when the extension says nothing', async () => {
    await expect(run({ table: 'rates', path: 'out.dat' })).rejects.toThrow('cannot tell the export format of out.dat from its extension');
  });

  it('requires exactly one of table or query', () => {
    expect(ExportWith.safeParse({ path: 'x.csv' }).success).toBe(false);
    expect(ExportWith.safeParse({ path: 'x.csv', table: 'a', query: 'SELECT 1' }).error?.issues[0]?.message).toBe('set exactly one of table or query');
  });
});
