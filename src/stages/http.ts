/**
 * `uses: http` — extract records from an HTTP API (or a local file:// URL) into a table. Requests go
 * through `ctx.fetch`, so the stage policy's retries, breaker and rate limit apply to every page.
 * Pages are written to NDJSON (or CSV) files under the run folder and loaded by DuckDB, which infers
 * the schema; the files are removed afterwards so raw API data does not end up in run artifacts.
 * JSON records that are not objects cannot become rows: they go to dead letters.
 */
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { quoteIdent, quoteLiteral } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { HttpStatusError, NetworkError, PermanentStageError, redactUrl, RequestTimeoutError } from '../policies/errors.ts';
import { createRequester, extractRecords, Pagination, type Page } from './http-extract.ts';
import type { StageContext, StageKind, StageResult } from './stage-kind.ts';

export const HttpWith = z
  .strictObject({
    url: z.string().min(1).describe('http(s):// URL, or file:// path (relative to the project root).'),
    method: z.enum(['GET', 'POST']).default('GET').describe('Default: GET.'),
    headers: z.record(z.string(), z.string()).default({}).describe('Request headers; values are never logged. Secrets: {{ env.TOKEN }}.'),
    secret_headers: z
      .array(z.string().min(1))
      .default([])
      .describe('Headers whose values are secrets (redacted everywhere). Default: none beyond names with auth, token, key, secret, cookie, session, pass, signature, credential.'),
    body: z.unknown().optional().describe('JSON request body (POST only).'),
    format: z.enum(['json', 'csv']).optional().describe('Response format. Default: csv if the content-type says so, else json.'),
    records: z.string().min(1).optional().describe('Dot path to the records array, e.g. data.items. Default: see docs/stage-kinds.md.'),
    table: z.string().min(1).optional().describe('Table to create. Default: the stage name.'),
    pagination: Pagination.optional().describe('How to fetch further pages. Default: one request.'),
    allow_empty: z.boolean().default(false).describe('Succeed with no table when there are no records. Default: false (fail).'),
  })
  .refine((w) => w.body === undefined || w.method === 'POST', { message: 'body needs method: POST', path: ['body'] });
export type HttpWith = z.infer<typeof HttpWith>;

/** Dead-letter reason for a JSON record that is a string, number, boolean, null or array. */
export const NOT_AN_OBJECT = 'not a JSON object';

export const httpStage: StageKind<HttpWith> = {
  name: 'http',
  summary: 'Extract records from an HTTP API (JSON or CSV, paginated) into a table.',
  with: HttpWith,
  producesTable: true,
  deadLetters: true,
  policyPerRequest: true,
  isRetriable: isHttpStageRetriable,
  run: runHttp,
};

/**
 * HTTP, connection and request-timeout failures: no. ctx.fetch has already retried each request under the policy;
 * running the whole stage again would multiply the attempts (and refetch every page). Other
 * failures: the policy decides.
 */
export function isHttpStageRetriable(error: unknown): boolean | undefined {
  return error instanceof HttpStatusError || error instanceof NetworkError || error instanceof RequestTimeoutError ? false : undefined;
}

async function runHttp(ctx: StageContext, config: HttpWith): Promise<StageResult> {
  assertUrlSupported(config);
  const table = config.table ?? ctx.stage;
  const url = redactUrl(config.url);
  const dir = join(ctx.runDir, 'http', ctx.stage);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  try {
    const pages = extractRecords(config, { fetch: createRequester(ctx.root, ctx.fetch), signal: ctx.signal, log: ctx.log });
    const spooled = await spoolPages(ctx, pages, dir);
    if (spooled.files.length === 0) return emptyResult(ctx, config, spooled);
    await loadTable(ctx, table, spooled);
    const rows = Number(await ctx.db.scalar(`SELECT count(*) FROM ${quoteIdent(table)}`, ctx.signal));
    const letters = spooled.deadLetters > 0 ? ` (${spooled.deadLetters} ${spooled.deadLetters === 1 ? 'record' : 'records'} to dead letters)` : '';
    ctx.log.info(`loaded ${rows} rows from ${spooled.pages} ${spooled.pages === 1 ? 'page' : 'pages'} into ${table}${letters}`);
    return { table, rows, total: rows + spooled.deadLetters, outputs: { pages: spooled.pages, url } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface Spooled {
  pages: number;
  format: Page['format'];
  /** Files holding at least one record. */
  files: string[];
  /** JSON records sent to ctx.deadLetter instead of a file. */
  deadLetters: number;
}

/**
 * Writes JSON object records to one NDJSON file (other JSON values go to dead letters), and each
 * CSV page to its own file (each has a header).
 */
async function spoolPages(ctx: StageContext, pages: AsyncIterable<Page>, dir: string): Promise<Spooled> {
  const spooled: Spooled = { pages: 0, format: 'json', files: [], deadLetters: 0 };
  const ndjson = join(dir, 'records.ndjson');
  for await (const page of pages) {
    spooled.pages++;
    spooled.format = page.format;
    if (page.format === 'csv') {
      if (page.empty) continue;
      const file = join(dir, `page-${String(spooled.pages).padStart(5, '0')}.csv`);
      await writeFile(file, page.text);
      spooled.files.push(file);
    } else {
      const objects = page.records.filter((record, index) => {
        if (isJsonObject(record)) return true;
        ctx.deadLetter(record, NOT_AN_OBJECT, { url: redactUrl(page.url), line: index + 1 });
        spooled.deadLetters++;
        return false;
      });
      if (objects.length === 0) continue;
      await appendFile(ndjson, `${objects.map((r) => JSON.stringify(r)).join('\n')}\n`);
      if (spooled.files.length === 0) spooled.files.push(ndjson);
    }
  }
  return spooled;
}

async function loadTable(ctx: StageContext, table: string, spooled: Spooled): Promise<void> {
  try {
    await ctx.db.exec(`CREATE OR REPLACE TABLE ${quoteIdent(table)} AS SELECT * FROM ${readerSql(spooled.format, spooled.files)}`, ctx.signal);
  } catch (error) {
    if (ctx.signal.aborted) throw error;
    throw new StageFailedError(`could not load the ${spooled.format} records into ${table}: ${(error as Error).message}`, { cause: error });
  }
}

function readerSql(format: Page['format'], files: string[]): string {
  const list = `[${files.map(quoteLiteral).join(', ')}]`;
  // sample_size=-1: infer types from every record, so a field first seen late is neither dropped nor mistyped.
  return format === 'csv'
    ? `read_csv_auto(${list}, union_by_name = true, sample_size = -1)`
    : `read_json_auto(${list}, format = 'newline_delimited', sample_size = -1)`;
}

function isJsonObject(record: unknown): boolean {
  return record !== null && typeof record === 'object' && !Array.isArray(record);
}

function emptyResult(ctx: StageContext, config: HttpWith, spooled: Spooled): StageResult {
  const { pages, deadLetters } = spooled;
  const where = `${redactUrl(config.url)} (${pages} ${pages === 1 ? 'page' : 'pages'}${config.records ? `, records at '${config.records}'` : ''})`;
  if (deadLetters > 0) {
    // Every record was set aside: max_dead_letter_ratio judges the stage, with the reasons on file.
    ctx.log.warn(`none of the ${deadLetters} records from ${where} is a JSON object: all went to dead letters; no table created`);
    return { rows: 0, total: deadLetters, outputs: { pages, url: redactUrl(config.url) } };
  }
  if (!config.allow_empty) {
    throw new PermanentStageError(`no records from ${where}: there is nothing to infer a table from. Check with.url and with.records, or set allow_empty: true if an empty answer is normal.`);
  }
  ctx.log.info(`no records from ${where}; no table created (allow_empty)`);
  return { rows: 0, outputs: { pages, url: redactUrl(config.url) } };
}

function assertUrlSupported(config: HttpWith): void {
  if (config.url.startsWith('file://')) {
    if (config.pagination) throw new StageFailedError(`pagination does not apply to file:// URLs (${config.url}): remove with.pagination.`);
    return;
  }
  if (!/^https?:\/\//i.test(config.url) || !URL.canParse(config.url)) {
    throw new StageFailedError(`with.url must be an http://, https:// or file:// URL (got '${redactUrl(config.url)}').`);
  }
}
