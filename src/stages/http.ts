/**
 * `uses: http` — extract records from an HTTP API (or a local file:// URL) into a table. Requests go
 * through `ctx.download`, so the stage policy's retries, timeouts, breaker and rate limit apply to
 * every page, and each body streams into a file under the run folder (memory stays bounded). DuckDB
 * loads the files and infers the schema (http-load.ts); the files are removed afterwards so raw API
 * data does not end up in run artifacts. Records that cannot become rows (JSON that is not an
 * object, ragged CSV lines) go to dead letters.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { quoteIdent } from '../model/database.ts';
import { StageFailedError } from '../model/errors.ts';
import { HttpStatusError, NetworkError, PermanentStageError, redactUrl, RequestTimeoutError } from '../policies/errors.ts';
import { createDownloader, extractRecords, Pagination } from './http-extract.ts';
import { loadTable, spoolPages, type Spooled } from './http-load.ts';

export { NOT_AN_OBJECT } from './http-load.ts';
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
    const download = createDownloader(ctx.root, (pageUrl, init, file) => ctx.download(pageUrl, init, file));
    const pages = extractRecords(config, { download, dir, signal: ctx.signal, log: ctx.log });
    const spooled = await spoolPages(ctx, pages, dir, config.records);
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
