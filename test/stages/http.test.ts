import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/model/errors.ts';
import { HttpStatusError, NetworkError, redactUrl } from '../../src/policies/errors.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy } from '../../src/policies/policy.ts';
import { parseLinkNext, selectRecords } from '../../src/stages/http-extract.ts';
import { HttpWith, httpStage } from '../../src/stages/http.ts';
import { createTestContext, type TestContext } from './context.ts';
import { startTestServer, type TestServer } from './http-server.ts';

let server: TestServer;
let ctx: TestContext;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());
beforeEach(async () => {
  server.reset();
  ctx = await createTestContext({ stage: 'extract', env: { TOKEN: 's3cret' } });
});
afterEach(() => ctx.dispose());

const run = (input: Record<string, unknown>, context: TestContext = ctx) => httpStage.run(context, HttpWith.parse(input));
const rows = (sql: string) => ctx.db.query(sql);

describe('http stage', () => {
  it('loads a JSON array into a table named after the stage', async () => {
    const result = await run({ url: `${server.url}/people` });
    expect(result).toMatchObject({ table: 'extract', rows: 3, outputs: { pages: 1, url: `${server.url}/people` } });
    // BIGINT comes back as a string from the JSON-safe reader.
    expect(await rows('SELECT id, name, team FROM extract ORDER BY id')).toEqual([
      { id: '1', name: 'ada', team: null },
      { id: '2', name: 'grace', team: null },
      { id: '3', name: 'edsger', team: 'algol' },
    ]);
  });

  it('takes records from a dot path, or else from the first array-valued property', async () => {
    expect(await run({ url: `${server.url}/wrapped`, records: 'data.items', table: 'nested' })).toMatchObject({ table: 'nested', rows: 3 });
    expect(await run({ url: `${server.url}/wrapped`, table: 'first' })).toMatchObject({ rows: 1 });
    expect(ctx.logged('info')).toContain("records taken from 'list' (set with.records to choose another path)");
  });

  it('fails with the top-level keys when the records path is missing', async () => {
    await expect(run({ url: `${server.url}/wrapped`, records: 'data.itms' })).rejects.toThrow(
      "with.records 'data.itms' is missing in the response from " + `${server.url}/wrapped (top-level keys: errors, data, list). Fix with.records.`,
    );
  });

  it('follows page numbers with a page size until an empty page', async () => {
    const result = await run({ url: `${server.url}/paged`, records: 'items', pagination: { type: 'page', size: 2 } });
    expect(result).toMatchObject({ rows: 3, outputs: { pages: 3 } });
    expect(server.requests.map((r) => r.path)).toEqual(['/paged?page=1&per_page=2', '/paged?page=2&per_page=2', '/paged?page=3&per_page=2']);
  });

  it('follows a next link found in the body, resolving relative URLs', async () => {
    const result = await run({ url: `${server.url}/next`, records: 'data', pagination: { type: 'next_link', path: 'links.next' } });
    expect(result).toMatchObject({ rows: 3, outputs: { pages: 3 } });
    expect(server.requests.map((r) => r.path)).toEqual(['/next', '/next?at=1', '/next?at=2']);
  });

  it('follows the Link header rel="next" when next_link has no path', async () => {
    expect(await run({ url: `${server.url}/link`, pagination: { type: 'next_link' } })).toMatchObject({ rows: 3, outputs: { pages: 2 } });
  });

  it('sends the cursor from the body until it is null', async () => {
    const result = await run({ url: `${server.url}/cursor`, pagination: { type: 'cursor', path: 'meta.next_cursor' } });
    expect(result).toMatchObject({ rows: 3, outputs: { pages: 2 } });
    expect(server.requests.map((r) => r.path)).toEqual(['/cursor', '/cursor?cursor=2']);
  });

  it('stops with a warning at max_pages and when the API repeats a page', async () => {
    expect(await run({ url: `${server.url}/paged`, records: 'items', pagination: { type: 'page', size: 1, max_pages: 2 } })).toMatchObject({ rows: 2 });
    expect(ctx.logged('warn')[0]).toMatch(/^stopped after max_pages \(2\) pages; .*page=3.* was not fetched/);
    expect(await run({ url: `${server.url}/loop`, records: 'data', table: 'loop', pagination: { type: 'next_link', path: 'next' } })).toMatchObject({ rows: 1 });
    expect(ctx.logged('warn')[1]).toMatch(/already fetched/);
  });

  it('loads CSV pages by content-type and stops on a header-only page', async () => {
    const result = await run({ url: `${server.url}/csv`, pagination: { type: 'page' } });
    expect(result).toMatchObject({ rows: 3, outputs: { pages: 3 } });
    expect(await rows('SELECT code, rate FROM extract ORDER BY code')).toEqual([
      { code: 'EUR', rate: 1 },
      { code: 'GBP', rate: 0.8 },
      { code: 'USD', rate: 1.1 },
    ]);
  });

  it('sends rendered secret headers and never puts them in logs or errors', async () => {
    const headers = { authorization: ctx.render('Bearer {{ env.TOKEN }}') };
    expect(await run({ url: `${server.url}/secret`, headers })).toMatchObject({ rows: 1 });
    expect(server.requests[0]?.headers.authorization).toBe('Bearer s3cret');
    const failure = run({ url: `${server.url}/secret?api_key=s3cret`, headers: { authorization: 'Bearer wrong' } });
    await expect(failure).rejects.toThrow(`GET ${server.url}/secret?api_key=*** answered HTTP 401 Unauthorized: {"error":"bad token"}. Check the credentials sent in with.headers`);
    expect(JSON.stringify(ctx.lines)).not.toContain('s3cret');
  });

  it('posts a JSON body', async () => {
    await run({ url: `${server.url}/search`, method: 'POST', body: { q: 'x' } });
    expect(await rows('SELECT method, received.q AS q FROM extract')).toEqual([{ method: 'POST', q: 'x' }]);
    expect(server.requests[0]?.headers['content-type']).toBe('application/json');
  });

  it('fails on 404 and 500 naming the status, the URL and a snippet of the body', async () => {
    const missing = run({ url: `${server.url}/nowhere` });
    await expect(missing).rejects.toBeInstanceOf(HttpStatusError);
    await expect(missing).rejects.toThrow(`GET ${server.url}/nowhere answered HTTP 404 Not Found: no route /nowhere. Check with.url.`);
    await expect(run({ url: `${server.url}/fail` })).rejects.toMatchObject({
      status: 500,
      message: `GET ${server.url}/fail answered HTTP 500 Internal Server Error: <h1>Internal Server Error</h1> <p>database is down</p>. The server failed: retry later or add a policy with retries.`,
    });
  });

  it('fails when there are no records unless allow_empty is set, then creates no table', async () => {
    await expect(run({ url: `${server.url}/empty` })).rejects.toThrow(/^no records from .*\/empty \(1 page\): .*set allow_empty: true/);
    expect(await run({ url: `${server.url}/empty`, allow_empty: true })).toEqual({ rows: 0, outputs: { pages: 1, url: `${server.url}/empty` } });
    expect(await ctx.db.scalar("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'extract'")).toBe('0');
  });

  it('stops a hanging request when the signal aborts, rejecting with its reason', async () => {
    const controller = new AbortController();
    const aborted = await createTestContext({ signal: controller.signal });
    try {
      setTimeout(() => controller.abort(new Error('stage timed out')), 50);
      await expect(run({ url: `${server.url}/hang` }, aborted)).rejects.toThrow('stage timed out');
    } finally {
      await aborted.dispose();
    }
  });

  it('fails clearly when the server cannot be reached', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const failure = run({ url: `http://127.0.0.1:${port}/x?token=abc` });
    await expect(failure).rejects.toBeInstanceOf(NetworkError);
    await expect(failure).rejects.toThrow(`could not reach http://127.0.0.1:${port}/x?token=***: ECONNREFUSED; check that the host is up`);
  });

  it('reads file:// URLs relative to the project root', async () => {
    await mkdir(join(ctx.root, 'fixtures'));
    await writeFile(join(ctx.root, 'fixtures', 'rates.csv'), 'code,rate\nEUR,1\n');
    expect(await run({ url: 'file://fixtures/rates.csv' })).toMatchObject({ rows: 1 });
    await expect(run({ url: 'file://fixtures/missing.json' })).rejects.toThrow(/^cannot read file:\/\/fixtures\/missing\.json .*relative to the project root/);
    await expect(run({ url: 'ftp://x/y' })).rejects.toBeInstanceOf(StageFailedError);
  });

  it('retries each failing page under the policy (500, 500, 200) and loses no record', async () => {
    const policy = resolvePolicy({ retries: 2, initial_delay: 0, jitter: 'none' }, EMPTY_POLICY_CONFIG);
    const retrying = await createTestContext({ stage: 'extract', policy });
    try {
      const result = await run({ url: `${server.url}/flaky`, records: 'items', pagination: { type: 'page' } }, retrying);
      expect(result).toMatchObject({ table: 'extract', rows: 3, total: 3, outputs: { pages: 4 } });
      expect(await retrying.db.query('SELECT id, name FROM extract ORDER BY id')).toEqual([
        { id: '1', name: 'ada' },
        { id: '2', name: 'grace' },
        { id: '3', name: 'edsger' },
      ]);
      // 4 pages (the 4th is empty), each asked 3 times.
      expect(server.requests.map((r) => r.path)).toEqual([1, 2, 3, 4].flatMap((page) => Array(3).fill(`/flaky?page=${page}`)));
      expect(retrying.retries).toHaveLength(8);
      expect(retrying.retries[0]).toEqual({ error: `GET ${server.url}/flaky?page=1 answered HTTP 500 Internal Server Error: attempt 1 failed. The server failed: retry later or add a policy with retries.`, delayMs: 0 });
      expect(retrying.letters).toEqual([]);
    } finally {
      await retrying.dispose();
    }
  });

  it('fails with the last HTTP error once the request retries are spent', async () => {
    const policy = resolvePolicy({ retries: 1, initial_delay: 0 }, EMPTY_POLICY_CONFIG);
    const retrying = await createTestContext({ stage: 'extract', policy });
    try {
      await expect(run({ url: `${server.url}/flaky`, records: 'items', pagination: { type: 'page' } }, retrying)).rejects.toThrow(
        `GET ${server.url}/flaky?page=1 answered HTTP 500 Internal Server Error: attempt 2 failed.`,
      );
      expect(server.requests).toHaveLength(2);
    } finally {
      await retrying.dispose();
    }
  });

  it('sends JSON records that are not objects to dead letters and loads the rest', async () => {
    const result = await run({ url: `${server.url}/mixed`, records: 'items' });
    expect(result).toMatchObject({ table: 'extract', rows: 2, total: 6 });
    expect(await rows('SELECT id FROM extract ORDER BY id')).toEqual([{ id: '1' }, { id: '2' }]);
    const url = `${server.url}/mixed`;
    expect(ctx.letters).toEqual([
      { record: 'oops', reason: 'not a JSON object', origin: { url, line: 2 } },
      { record: 42, reason: 'not a JSON object', origin: { url, line: 3 } },
      { record: null, reason: 'not a JSON object', origin: { url, line: 4 } },
      { record: [1, 2], reason: 'not a JSON object', origin: { url, line: 5 } },
    ]);
    expect(ctx.logged('info')).toContain('loaded 2 rows from 1 page into extract (4 records to dead letters)');
  });

  it('creates no table when no record is an object, leaving the verdict to max_dead_letter_ratio', async () => {
    expect(await run({ url: `${server.url}/scalars` })).toEqual({ rows: 0, total: 2, outputs: { pages: 1, url: `${server.url}/scalars` } });
    expect(ctx.letters.map((l) => l.record)).toEqual([1, 2]);
    expect(ctx.logged('warn')).toEqual([`none of the 2 records from ${server.url}/scalars (1 page) is a JSON object: all went to dead letters; no table created`]);
  });

  it('says HTTP and connection failures are not worth running the stage again, and leaves the rest to the policy', () => {
    expect(httpStage.isRetriable?.(new HttpStatusError({ status: 503, url: 'https://x/' }))).toBe(false);
    expect(httpStage.isRetriable?.(new NetworkError('https://x/'))).toBe(false);
    expect(httpStage.isRetriable?.(new StageFailedError('could not load the json records'))).toBeUndefined();
    expect(httpStage.deadLetters).toBe(true);
  });

  it('rejects a body without POST at validation time', () => {
    expect(HttpWith.safeParse({ url: 'https://x', body: { a: 1 } }).error?.issues[0]?.message).toBe('body needs method: POST');
  });
});

describe('http helpers', () => {
  it('finds rel="next" among several links', () => {
    expect(parseLinkNext('<https://a/x?page=1>; rel="prev", <https://a/x?page=3>; rel="next last"')).toBe('https://a/x?page=3');
    expect(parseLinkNext('<https://a/x?page=1>; rel="prev"')).toBeUndefined();
  });

  it('redacts secret-looking query values and user info but keeps the rest', () => {
    expect(redactUrl('https://user:pw@api.test/v1?page=2&api_key=abc&access_token=t')).toBe('https://***@api.test/v1?page=2&api_key=***&access_token=***');
  });

  it('treats a body without arrays as one record', () => {
    expect(selectRecords({ base: 'EUR' }, undefined, 'https://x')).toEqual([{ base: 'EUR' }]);
  });
});
