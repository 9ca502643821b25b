/**
 * Fetching and paginating an HTTP API, independent of the stage context: each page's body is
 * downloaded to a file by a `PageDownloader` (the stage passes `ctx.download`, which applies the
 * policy's retries, timeouts, breaker and rate limit per request). `extractRecords` yields one
 * `Page` per response; the `http` stage loads them into DuckDB. CSV pages and JSON pages larger
 * than JSON_IN_MEMORY_BYTES are never read into memory here: DuckDB reads their files.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { StageFailedError, WeirError } from '../model/errors.ts';
import { NetworkError, redactUrl } from '../policies/errors.ts';
import { formatOf } from './format-of.ts';
import type { StageLogger } from './stage-kind.ts';

/** Where a page's body is, and the answer's headers. */
export interface FetchedPage {
  headers: Headers;
  file: string;
}

/** One request whose body goes to `file`; rejects on non-2xx. `ctx.download` in the stage. */
export type PageDownloader = (url: string, init: RequestInit, file: string) => Promise<FetchedPage>;

/**
 * JSON pages up to this size are parsed here (records paths, pagination values from the body,
 * dead letters per record); larger ones are read by DuckDB from their file, so a big answer costs
 * no more than a few times its size in memory (bench/http-memory.ts).
 */
export const JSON_IN_MEMORY_BYTES = 8 * 1024 * 1024;

/** Default safety limit on pages per run: a looping API must not run forever. */
export const DEFAULT_MAX_PAGES = 1000;
/** How much of a response that is not JSON goes into the error message. */
const SNIPPET_CHARS = 300;

const maxPages = z.number().int().positive().default(DEFAULT_MAX_PAGES).describe(`Most pages fetched; more stops with a warning. Default: ${DEFAULT_MAX_PAGES}.`);

export const Pagination = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('next_link'),
    path: z.string().min(1).optional().describe('Dot path to the next URL in the JSON body. Default: the Link header (rel="next").'),
    max_pages: maxPages,
  }),
  z.strictObject({
    type: z.literal('page'),
    param: z.string().min(1).default('page').describe('Query parameter holding the page number. Default: page.'),
    start: z.number().int().nonnegative().default(1).describe('First page number. Default: 1.'),
    size_param: z.string().min(1).default('per_page').describe('Query parameter holding the page size (sent only when size is set). Default: per_page.'),
    size: z.number().int().positive().optional().describe('Page size to ask for. Default: the API default.'),
    max_pages: maxPages,
  }),
  z.strictObject({
    type: z.literal('cursor'),
    param: z.string().min(1).default('cursor').describe('Query parameter the cursor is sent in. Default: cursor.'),
    path: z.string().min(1).describe('Dot path to the next cursor in the JSON body; missing, null or "" ends.'),
    max_pages: maxPages,
  }),
]);
export type Pagination = z.infer<typeof Pagination>;

/** The part of the `http` stage's `with` block that extraction needs. */
export interface ExtractConfig {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: unknown;
  format?: 'json' | 'csv';
  records?: string;
  pagination?: Pagination;
}

export interface ExtractOptions {
  download: PageDownloader;
  /** Folder the page bodies are written to (one file per page). */
  dir: string;
  signal: AbortSignal;
  log: Pick<StageLogger, 'info' | 'warn'>;
}

/**
 * One fetched page: JSON records parsed here; or a file DuckDB reads — a CSV page, or a JSON page
 * too large to parse here (`records` then still applies to it).
 */
export type Page =
  | { url: string; format: 'json'; records: unknown[] }
  | { url: string; format: 'json'; file: string; bytes: number }
  | { url: string; format: 'csv'; file: string; empty: boolean };

/** Fetches every page, following `pagination`; yields empty pages too so callers can count them. */
export async function* extractRecords(config: ExtractConfig, options: ExtractOptions): AsyncGenerator<Page> {
  const seen = new Set<string>();
  const limit = config.pagination?.max_pages ?? 1;
  let url: string | undefined = firstPageUrl(config);
  let format = config.format;
  for (let number = 1; url !== undefined; number++) {
    if (number > limit) {
      options.log.warn(`stopped after max_pages (${limit}) pages; ${redactUrl(url)} was not fetched. Raise pagination.max_pages if the API really has more.`);
      return;
    }
    seen.add(url);
    const fetched = await request(url, config, options, join(options.dir, `page-${String(number).padStart(5, '0')}.body`));
    format ??= formatOf({ contentType: fetched.headers.get('content-type') }) === 'csv' ? 'csv' : 'json';
    const read = { url, format, recordsPath: config.records, log: number === 1 ? options.log : undefined, parseLarge: needsBody(config.pagination) };
    const { page, body } = await readPage(fetched, read);
    yield page;
    const next = nextPageUrl(config.pagination, url, number, fetched.headers, page, body);
    if (next !== undefined && seen.has(next)) {
      options.log.warn(`stopped paginating: the next page ${redactUrl(next)} was already fetched (the API repeats itself).`);
      return;
    }
    url = next;
  }
}

/** Reads `file://` URLs in place (relative paths against `root`); everything else goes to `download`. */
export function createDownloader(root: string, download: (url: string, init: RequestInit, file: string) => Promise<{ headers: Headers }>): PageDownloader {
  return async (url, init, file) => (url.startsWith('file://') ? localFile(url, root) : { headers: (await download(url, init, file)).headers, file });
}

/** The `rel="next"` target of an RFC 8288 Link header, if any. */
export function parseLinkNext(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const [, target, params] of header.matchAll(/<([^>]*)>([^,<]*)/g)) {
    const rel = /;\s*rel\s*=\s*"?([^";]+)"?/i.exec(params ?? '')?.[1];
    if (rel?.split(/\s+/).includes('next')) return target;
  }
  return undefined;
}

/** Value at a dot path such as `data.items` (array indexes allowed: `results.0.items`). */
export function valueAtPath(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

function firstPageUrl(config: ExtractConfig): string {
  const p = config.pagination;
  if (p?.type !== 'page') return config.url;
  return withParams(config.url, { [p.param]: String(p.start), ...(p.size ? { [p.size_param]: String(p.size) } : {}) });
}

/** Pagination that reads values from the body (a next-link or cursor path): such pages are parsed here. */
function needsBody(p: Pagination | undefined): boolean {
  return (p?.type === 'next_link' && p.path !== undefined) || p?.type === 'cursor';
}

function nextPageUrl(p: Pagination | undefined, url: string, number: number, headers: Headers, page: Page, body: unknown): string | undefined {
  switch (p?.type) {
    case undefined:
      return undefined;
    case 'next_link': {
      const next = p.path ? valueAtPath(body, p.path) : parseLinkNext(headers.get('link'));
      return typeof next === 'string' && next !== '' ? new URL(next, url).toString() : undefined;
    }
    case 'page':
      // Only an empty page ends: a short page may just mean the API caps the size we asked for.
      return isEmpty(page) ? undefined : withParams(url, { [p.param]: String(p.start + number) });
    case 'cursor': {
      const cursor = valueAtPath(body, p.path);
      return cursor === undefined || cursor === null || cursor === '' ? undefined : withParams(url, { [p.param]: String(cursor) });
    }
  }
}

function isEmpty(page: Page): boolean {
  if (page.format === 'csv') return page.empty;
  // A page too large to parse here is not empty.
  return 'records' in page && page.records.length === 0;
}

function withParams(url: string, params: Record<string, string>): string {
  const parsed = new URL(url);
  for (const [key, value] of Object.entries(params)) parsed.searchParams.set(key, value);
  return parsed.toString();
}

async function request(url: string, config: ExtractConfig, options: ExtractOptions, file: string): Promise<FetchedPage> {
  const headers = new Headers(config.headers);
  const init: RequestInit = { method: config.method, headers, signal: options.signal };
  if (config.body !== undefined) {
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
    init.body = JSON.stringify(config.body);
  }
  try {
    return await options.download(url, init, file);
  } catch (error) {
    if (options.signal.aborted) throw options.signal.reason ?? error;
    // ctx.download already throws HttpStatusError / NetworkError / CircuitOpenError; a bare one may not.
    if (error instanceof WeirError) throw error;
    throw new NetworkError(url, { cause: (error as { cause?: unknown }).cause ?? error });
  }
}

interface ReadOptions {
  url: string;
  format: 'json' | 'csv';
  recordsPath?: string;
  log?: ExtractOptions['log'];
  /** Parse a JSON page here whatever its size (pagination needs values from its body). */
  parseLarge: boolean;
}

async function readPage(fetched: FetchedPage, options: ReadOptions): Promise<{ page: Page; body: unknown }> {
  const { url, format, recordsPath, log } = options;
  if (format === 'csv') return { page: { url, format, file: fetched.file, empty: !(await csvHasRows(fetched.file)) }, body: undefined };
  const { size } = await stat(fetched.file);
  if (size > JSON_IN_MEMORY_BYTES && !options.parseLarge) return { page: { url, format, file: fetched.file, bytes: size }, body: undefined };
  const text = await readFile(fetched.file, 'utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const type = fetched.headers.get('content-type') ?? 'none';
    throw new StageFailedError(`${redactUrl(url)} did not return valid JSON (content-type: ${type}): ${text.slice(0, SNIPPET_CHARS)}. Set with.format: csv for CSV responses.`, { cause: error });
  }
  return { page: { url, format, records: selectRecords(body, recordsPath, url, log) }, body };
}

/** Whether a CSV file has a line after its header (a header line alone, or nothing, is an empty page). Reads only until it knows. */
export async function csvHasRows(file: string): Promise<boolean> {
  let lines = 0;
  let current = '';
  for await (const chunk of createReadStream(file, { encoding: 'utf8', highWaterMark: 64 * 1024 })) {
    const parts = (current + chunk).split(/\r?\n/);
    current = parts.pop() ?? '';
    lines += parts.filter((line) => line.trim() !== '').length;
    if (lines >= 2) return true;
  }
  return lines + (current.trim() === '' ? 0 : 1) >= 2;
}

/**
 * The records of a JSON response: the value at `records` when given; else the body if it is an
 * array; else its first array-valued top-level property; else the body itself as one record.
 */
export function selectRecords(body: unknown, path: string | undefined, url: string, log?: ExtractOptions['log']): unknown[] {
  if (path !== undefined) {
    const value = valueAtPath(body, path);
    if (Array.isArray(value)) return value;
    if (value !== null && typeof value === 'object') return [value];
    const keys = body !== null && typeof body === 'object' ? Object.keys(body).join(', ') : typeof body;
    throw new StageFailedError(`with.records '${path}' is ${value === undefined ? 'missing' : `not an array (${value})`} in the response from ${redactUrl(url)} (top-level keys: ${keys}). Fix with.records.`);
  }
  if (Array.isArray(body)) return body;
  if (body === null || typeof body !== 'object') return [body];
  const entry = Object.entries(body).find(([, value]) => Array.isArray(value));
  log?.info(entry ? `records taken from '${entry[0]}' (set with.records to choose another path)` : 'the response has no array: loading it as one record');
  return entry ? (entry[1] as unknown[]) : [body];
}

async function localFile(url: string, root: string): Promise<FetchedPage> {
  const raw = decodeURIComponent(url.slice('file://'.length));
  const path = isAbsolute(raw) ? raw : resolve(root, raw);
  try {
    await stat(path);
  } catch (error) {
    throw new StageFailedError(`cannot read ${url} (${path}): ${(error as Error).message}. Paths in file:// URLs are relative to the project root.`, { cause: error });
  }
  const type = formatOf({ path }) === 'csv' ? 'text/csv' : 'application/json';
  return { headers: new Headers({ 'content-type': type }), file: path };
}
