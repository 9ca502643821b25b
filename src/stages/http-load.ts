/**
 * From fetched pages to a table, for the `http` stage. Page bodies are already files (never held
 * in memory as a whole): CSV pages are read by DuckDB with their ragged or unparseable lines sent
 * to dead letters; small JSON pages were parsed by http-extract and their object records are
 * appended to one NDJSON file; a large JSON page is split into NDJSON while streaming (or, under a
 * `records` path, by DuckDB). Records that are not
 * JSON objects cannot become rows: they go to dead letters.
 */
import { appendFile, open } from 'node:fs/promises';
import { join } from 'node:path';
import { quoteLiteral } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { redactUrl } from '../policies/errors.ts';
import type { Page } from './http-extract.ts';
import { splitJsonArray } from './json-array-split.ts';
import { createTableSql, csvReaderSql, findWholeLineColumn, jsonReaderSql, runWithRejects } from './load-files.ts';
import type { StageContext } from './stage-kind.ts';

/** Dead-letter reason for a JSON record that is a string, number, boolean, null or array. */
export const NOT_AN_OBJECT = 'not a JSON object';

export interface Spooled {
  pages: number;
  format: Page['format'];
  /** Files holding at least one record, with the URL each came from. */
  files: { file: string; url: string }[];
  /** Records sent to ctx.deadLetter. */
  deadLetters: number;
}

/** Collects the pages' record files; JSON records that are not objects go to dead letters. */
export async function spoolPages(ctx: StageContext, pages: AsyncIterable<Page>, dir: string, recordsPath: string | undefined): Promise<Spooled> {
  const spooled: Spooled = { pages: 0, format: 'json', files: [], deadLetters: 0 };
  const ndjson = join(dir, 'records.ndjson');
  for await (const page of pages) {
    spooled.pages++;
    spooled.format = page.format;
    if (page.format === 'csv') {
      if (!page.empty) spooled.files.push({ file: page.file, url: page.url });
    } else if ('records' in page) {
      const objects = page.records.filter((record, index) => keepObject(ctx, spooled, record, page.url, index + 1));
      if (objects.length === 0) continue;
      await appendFile(ndjson, `${objects.map((r) => JSON.stringify(r)).join('\n')}\n`);
      if (!spooled.files.some((f) => f.file === ndjson)) spooled.files.push({ file: ndjson, url: page.url });
    } else {
      const out = join(dir, `large-${String(spooled.pages).padStart(5, '0')}.ndjson`);
      if (await splitLargeJsonPage(ctx, spooled, page, recordsPath, out)) spooled.files.push({ file: out, url: page.url });
    }
  }
  return spooled;
}

function keepObject(ctx: StageContext, spooled: Spooled, record: unknown, url: string, index: number): boolean {
  if (record !== null && typeof record === 'object' && !Array.isArray(record)) return true;
  ctx.deadLetter(record, NOT_AN_OBJECT, { url: redactUrl(url), line: index });
  spooled.deadLetters++;
  return false;
}

/**
 * Writes the object records of a large JSON page to `out` as NDJSON and sends the others to dead
 * letters; true when there was at least one object. A top-level array is split while streaming
 * (json-array-split.ts); records under a `records` path are picked by DuckDB, which then holds
 * the whole document (an API that wraps 50 MB of records in an object costs that much more).
 */
async function splitLargeJsonPage(ctx: StageContext, spooled: Spooled, page: Extract<Page, { bytes: number }>, recordsPath: string | undefined, out: string): Promise<boolean> {
  if (recordsPath === undefined) {
    if ((await firstCharacter(page.file)) !== '[') {
      throw new StageFailedError(`the answer from ${redactUrl(page.url)} is ${Math.round(page.bytes / 1e6)} MB and not a JSON array: set with.records to the path of its records array.`);
    }
    try {
      const { objects } = await splitJsonArray(page.file, out, (record, index) => keepObject(ctx, spooled, record, page.url, index));
      return objects > 0;
    } catch (error) {
      throw new StageFailedError(`${redactUrl(page.url)} did not return valid JSON: ${(error as Error).message}. Set with.format: csv for CSV responses.`, { cause: error });
    }
  }
  const source = await recordsAtPathSql(ctx, page, recordsPath);
  const notObject = `json_type(json) IS DISTINCT FROM 'OBJECT'`;
  const others = await ctx.db.query(`SELECT i, json::VARCHAR AS json FROM (SELECT row_number() OVER () AS i, json FROM (${source})) WHERE ${notObject} ORDER BY i`, ctx.signal);
  for (const row of others) keepObject(ctx, spooled, row.json === null ? null : JSON.parse(String(row.json)), page.url, Number(row.i));
  // DuckDB minifies each record (`json(…)`); minified JSON holds no raw newline or control
  // character, so an unquoted one-column CSV with a control-character delimiter is exactly NDJSON.
  const [copied] = await ctx.db.query(
    `COPY (SELECT json(json) FROM (${source}) WHERE json_type(json) = 'OBJECT') TO ${quoteLiteral(out)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIM '\x1f')`,
    ctx.signal,
  );
  return Number(copied?.Count ?? 0) > 0;
}

/** SQL yielding one `json` value per record at `records` in a large page (the whole document is read). */
async function recordsAtPathSql(ctx: StageContext, page: Extract<Page, { bytes: number }>, recordsPath: string): Promise<string> {
  const whole = `read_json_objects(${quoteLiteral(page.file)}, format = 'unstructured', maximum_object_size = ${page.bytes + 1})`;
  const value = `(SELECT json_extract(json, ${quoteLiteral(toJsonPath(recordsPath))}) AS v FROM ${whole})`;
  const type = await ctx.db.scalar(`SELECT json_type(v) FROM ${value}`, ctx.signal);
  if (type === null || type === undefined) {
    throw new StageFailedError(`with.records '${recordsPath}' is missing in the response from ${redactUrl(page.url)}. Fix with.records.`);
  }
  return type === 'ARRAY' ? `SELECT unnest(json_extract(v, '$[*]')) AS json FROM ${value}` : `SELECT v AS json FROM ${value}`;
}

/** The first non-whitespace character of a file (reads only its start). */
async function firstCharacter(file: string): Promise<string | undefined> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4096), 0, 4096, 0);
    return /\S/.exec(buffer.toString('utf8', 0, bytesRead))?.[0];
  } finally {
    await handle.close();
  }
}

/** `data.items` → `$."data"."items"`; numeric segments index arrays (`results.0` → `$."results"[0]`). */
export function toJsonPath(dotPath: string): string {
  return `$${dotPath.split('.').map((key) => (/^\d+$/.test(key) ? `[${key}]` : `."${key.replaceAll('"', '\\"')}"`)).join('')}`;
}

/** Creates `table` from the spooled files; CSV lines DuckDB cannot parse go to dead letters. */
export async function loadTable(ctx: StageContext, table: string, spooled: Spooled): Promise<void> {
  try {
    if (spooled.format === 'json') {
      await ctx.db.exec(createTableSql(table, [jsonReaderSql(spooled.files.map((f) => f.file), { newlineDelimited: true })]), ctx.signal);
      return;
    }
    const urlOf = new Map(spooled.files.map((f) => [f.file, f.url]));
    const create = createTableSql(table, spooled.files.map((f) => csvReaderSql(f.file)));
    const rejected = await runWithRejects(ctx.db, create, (path) => redactUrl(urlOf.get(path) ?? path), ctx.signal);
    for (const r of rejected) ctx.deadLetter({ line: r.text }, r.reasons.join('; '), { url: r.file, line: r.line });
    spooled.deadLetters += rejected.length;
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw new StageFailedError(`could not load the ${spooled.format} records into ${table}: ${(error as Error).message}`, { cause: error });
  }
  const whole = await findWholeLineColumn(ctx.db, table, ctx.signal);
  if (whole !== undefined) {
    throw new StageFailedError(
      `the CSV from ${redactUrl(spooled.files[0].url)} loaded as one column '${whole}': no delimiter splits its lines consistently. ` +
        'Check that the answer is CSV, or set with.format: json.',
    );
  }
}
