import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/model/errors.ts';
import { moveWithoutOverwrite, withSuffix } from '../../src/stages/file-archive.ts';
import { groupRejects } from '../../src/stages/load-files.ts';
import { FilesWith, filesStage } from '../../src/stages/files.ts';
import type { StageResult } from '../../src/stages/stage-kind.ts';
import { createTestContext, type TestContext } from './context.ts';

let ctx: TestContext;

beforeEach(async () => {
  ctx = await createTestContext({ stage: 'ingest' });
});
afterEach(() => ctx.dispose());

const put = async (path: string, content: string, context = ctx) => {
  await mkdir(dirname(join(context.root, path)), { recursive: true });
  await writeFile(join(context.root, path), content);
};
const run = (input: Record<string, unknown>, context: TestContext = ctx) => filesStage.run(context, FilesWith.parse(input));
const list = (folder: string) => readdir(join(ctx.root, folder)).then((names) => names.sort(), () => []);

/** A second "run" of the pipeline over the same folder, remembering what the first one committed. */
async function nextRun(previous: StageResult[]): Promise<TestContext> {
  const processed = previous.flatMap((r) => r.commit?.processedFiles ?? []).map((f) => f.hash);
  return createTestContext({ stage: 'ingest', root: ctx.root, processed });
}

describe('files stage', () => {
  it('loads every new file into one table with a _source_file column, unioning columns by name', async () => {
    await put('incoming/a.csv', 'id,amount\n1,10\n2,20\n');
    await put('incoming/b.csv', 'id,currency\n3,EUR\n');
    const result = await run({ path: 'incoming/*.csv' });
    expect(result).toMatchObject({ table: 'ingest', rows: 3, outputs: { new_files: 2, skipped_files: 0 } });
    expect(await ctx.db.query('SELECT id, amount, currency, _source_file FROM ingest ORDER BY id')).toEqual([
      { id: '1', amount: '10', currency: null, _source_file: 'incoming/a.csv' },
      { id: '2', amount: '20', currency: null, _source_file: 'incoming/a.csv' },
      { id: '3', amount: null, currency: 'EUR', _source_file: 'incoming/b.csv' },
    ]);
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(result.commit?.processedFiles).toEqual([
      { path: 'incoming/a.csv', bytes: 20, hash: sha256('id,amount\n1,10\n2,20\n'), archivedTo: undefined },
      { path: 'incoming/b.csv', bytes: 18, hash: sha256('id,currency\n3,EUR\n'), archivedTo: undefined },
    ]);
    expect(result.afterCommit).toBeUndefined();
  });

  it('skips files whose content an earlier run processed, even under a new name', async () => {
    await put('incoming/a.csv', 'id\n1\n');
    const first = await run({ path: 'incoming/*.csv' });
    await put('incoming/a-copy.csv', 'id\n1\n');
    await put('incoming/c.csv', 'id\n3\n');
    const second = await nextRun([first]);
    try {
      const result = await run({ path: 'incoming/*.csv' }, second);
      expect(result).toMatchObject({ rows: 1, outputs: { new_files: 1, skipped_files: 2 } });
      expect(await second.db.query('SELECT _source_file FROM ingest')).toEqual([{ _source_file: 'incoming/c.csv' }]);
    } finally {
      await second.dispose();
    }
  });

  it('creates no table and reports zero new files when nothing is new', async () => {
    await put('incoming/a.csv', 'id\n1\n');
    const first = await run({ path: 'incoming/*.csv' });
    const second = await nextRun([first]);
    try {
      expect(await run({ path: 'incoming/*.csv' }, second)).toEqual({ rows: 0, outputs: { new_files: 0, skipped_files: 1 }, afterCommit: undefined });
      expect(second.logged('info')).toEqual(['no new files match incoming/*.csv (1 already processed); no table created']);
    } finally {
      await second.dispose();
    }
  });

  it('loads identical files found in one run only once', async () => {
    await put('incoming/a.csv', 'id\n1\n');
    await put('incoming/b.csv', 'id\n1\n');
    expect(await run({ path: 'incoming/*.csv' })).toMatchObject({ rows: 1, outputs: { new_files: 1, skipped_files: 1 } });
  });

  it('moves files to the archive only in afterCommit, adding a suffix instead of overwriting', async () => {
    await put('archive/a.csv', 'an older a.csv\n');
    await put('incoming/a.csv', 'id\n1\n');
    await put('incoming/sub/a.csv', 'id\n2\n');
    const result = await run({ path: 'incoming/**/*.csv', archive: 'archive' });
    expect(await list('incoming')).toEqual(['a.csv', 'sub']);
    expect(result.commit?.processedFiles?.map((f) => f.archivedTo)).toEqual(['archive/a-1.csv', 'archive/a-2.csv']);
    await result.afterCommit?.();
    expect(await list('incoming/sub')).toEqual([]);
    expect(await list('archive')).toEqual(['a-1.csv', 'a-2.csv', 'a.csv']);
    expect(await readFile(join(ctx.root, 'archive/a.csv'), 'utf8')).toBe('an older a.csv\n');
    expect(await readFile(join(ctx.root, 'archive/a-2.csv'), 'utf8')).toBe('id\n2\n');
  });

  it('archives already-processed files still in the folder (a move that failed last time) without reloading them', async () => {
    await put('incoming/a.csv', 'id\n1\n');
    const first = await run({ path: 'incoming/*.csv' });
    const second = await nextRun([first]);
    try {
      const result = await run({ path: 'incoming/*.csv', archive: 'archive' }, second);
      expect(result).toMatchObject({ rows: 0, outputs: { new_files: 0, skipped_files: 1 } });
      await result.afterCommit?.();
      expect(await list('archive')).toEqual(['a.csv']);
    } finally {
      await second.dispose();
    }
  });

  it('never picks archived files up again when the archive is inside the globbed folder', async () => {
    await put('incoming/a.csv', 'id\n1\n');
    const result = await run({ path: 'incoming/**', format: 'csv', archive: 'incoming/done/' });
    await result.afterCommit?.();
    await put('incoming/b.csv', 'id\n2\n');
    const second = await nextRun([result]);
    try {
      expect(await run({ path: 'incoming/**', format: 'csv', archive: 'incoming/done' }, second)).toMatchObject({ outputs: { new_files: 1, skipped_files: 0 } });
    } finally {
      await second.dispose();
    }
  });

  it('leaves every file in place when loading fails', async () => {
    await put('incoming/a.csv', 'id\n1\n');
    await put('incoming/b.json', '{"id": 2');
    const failure = run({ path: 'incoming/*', archive: 'archive' });
    await expect(failure).rejects.toBeInstanceOf(StageFailedError);
    await expect(run({ path: 'incoming/*', archive: 'archive' })).rejects.toThrow(/^could not load incoming\/a\.csv, incoming\/b\.json into ingest: .*\nFix or remove the file/s);
    expect(await list('incoming')).toEqual(['a.csv', 'b.json']);
    expect(await list('archive')).toEqual([]);
  });

  it('reads csv, json and parquet together, by extension', async () => {
    await put('in/a.csv', 'id;name\n1;ada\n');
    await put('in/b.ndjson', '{"id": 2, "name": "grace"}\n');
    await ctx.db.exec(`COPY (SELECT 3 AS id, 'edsger' AS name) TO '${join(ctx.root, 'in/c.parquet')}' (FORMAT parquet)`);
    const result = await run({ path: 'in/*', options: { delimiter: ';' } });
    expect(result).toMatchObject({ rows: 3 });
    expect(await ctx.db.query('SELECT id::INT AS id, name FROM ingest ORDER BY id')).toEqual([
      { id: 1, name: 'ada' },
      { id: 2, name: 'grace' },
      { id: 3, name: 'edsger' },
    ]);
  });

  it('loads the good lines of a CSV file and sends each malformed line to dead letters with its line number and reason', async () => {
    const lines = ['id,name,amount', '1,ada,10', '2,grace,20', '3,edsger,30,extra', '4,barbara,40', '5,alan', '6,tim,60', '7,ken,70', '8,dennis,80', '9,linus,90', '10,guido,100'];
    await put('incoming/people.csv', `${lines.join('\n')}\n`);
    await put('incoming/more.csv', 'id,name,amount\n11,bjarne,110\n');
    const result = await run({ path: 'incoming/*.csv' });
    expect(result).toMatchObject({ table: 'ingest', rows: 9, total: 11, outputs: { new_files: 2 } });
    expect(await ctx.db.scalar('SELECT count(*) FROM ingest WHERE _source_file = \'incoming/people.csv\'')).toBe('8');
    expect(await ctx.db.query('SELECT id FROM ingest WHERE id IN (3, 5)')).toEqual([]);
    expect(ctx.letters).toEqual([
      { record: { line: '3,edsger,30,extra' }, reason: 'Expected Number of Columns: 3 Found: 4', origin: { file: 'incoming/people.csv', line: 4 } },
      { record: { line: '5,alan' }, reason: 'Expected Number of Columns: 3 Found: 2', origin: { file: 'incoming/people.csv', line: 6 } },
    ]);
    expect(ctx.logged('info')).toContain('loaded 9 rows from 2 new files into ingest (2 malformed CSV lines to dead letters)');
    expect(filesStage.deadLetters).toBe(true);
  });

  it('reports no dead letters and total = rows for clean files of every format', async () => {
    await put('in/a.csv', 'id\n1\n2\n');
    await put('in/b.ndjson', '{"id": 3}\n');
    expect(await run({ path: 'in/*' })).toMatchObject({ rows: 3, total: 3 });
    expect(ctx.letters).toEqual([]);
  });

  it('fails with advice when a file extension says nothing about its format', async () => {
    await put('in/data.bin', 'x');
    await expect(run({ path: 'in/*' })).rejects.toThrow('cannot tell the format of in/data.bin from its extension: set with.format (csv, json or parquet) or narrow with.path.');
  });
});

describe('grouping DuckDB CSV rejects', () => {
  it('makes one dead letter per line, keeping every distinct error on it', () => {
    const rows = [
      { file_path: '/p/in/a.csv', line: '2', csv_line: '1,"x, y",10', error_message: 'Could not convert string " y" to BIGINT' },
      { file_path: '/p/in/a.csv', line: '2', csv_line: '1,"x, y",10', error_message: 'Expected Number of Columns: 3 Found: 4' },
      { file_path: '/p/in/b.csv', line: '2', csv_line: '4', error_message: 'Expected Number of Columns: 2 Found: 1' },
    ];
    expect(groupRejects(rows, (path) => path.slice('/p/'.length))).toEqual([
      { file: 'in/a.csv', line: 2, text: '1,"x, y",10', reasons: ['Could not convert string " y" to BIGINT', 'Expected Number of Columns: 3 Found: 4'] },
      { file: 'in/b.csv', line: 2, text: '4', reasons: ['Expected Number of Columns: 2 Found: 1'] },
    ]);
  });
});

describe('file archive', () => {
  it('puts the suffix before the extension, keeping compression suffixes', () => {
    expect(withSuffix('archive/rates.csv', 1)).toBe('archive/rates-1.csv');
    expect(withSuffix('archive/rates.csv.gz', 2)).toBe('archive/rates-2.csv.gz');
    expect(withSuffix('archive/README', 3)).toBe('archive/README-3');
  });

  it('moves to the next free name when the planned one was taken meanwhile', async () => {
    await put('x.csv', 'new');
    await put('archive/x.csv', 'old');
    const placed = await moveWithoutOverwrite(join(ctx.root, 'x.csv'), join(ctx.root, 'archive/x.csv'));
    expect(placed).toBe(join(ctx.root, 'archive/x-1.csv'));
    expect(await readFile(join(ctx.root, 'archive/x.csv'), 'utf8')).toBe('old');
    expect(await readFile(placed, 'utf8')).toBe('new');
  });
});
