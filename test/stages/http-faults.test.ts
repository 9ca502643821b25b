/**
 * The http stage against a server that misbehaves on purpose (test/stages/http-server.ts): answers
 * that never start, bodies that drip, stall, break off or lie about their length, ragged CSV and
 * large answers. Timeouts are short so the tests stay fast; none asserts a wall-clock time.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NetworkError, RequestTimeoutError } from '../../src/policies/errors.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy } from '../../src/policies/policy.ts';
import { HttpWith, httpStage } from '../../src/stages/http.ts';
import { createTestContext, type TestContext, type TestContextOptions } from './context.ts';
import { startFaultServer, type FaultServer } from './http-server.ts';

let server: FaultServer;
let ctx: TestContext;

beforeAll(async () => {
  server = await startFaultServer();
});
afterAll(() => server.close());
afterEach(() => ctx?.dispose());

async function context(policy: Record<string, unknown>, options: TestContextOptions = {}): Promise<TestContext> {
  server.reset();
  ctx = await createTestContext({ stage: 'api', policy: resolvePolicy({ initial_delay: 0, jitter: 'none', ...policy }, EMPTY_POLICY_CONFIG), ...options });
  return ctx;
}
const run = (input: Record<string, unknown>) => httpStage.run(ctx, HttpWith.parse(input));
const requestsTo = (path: string) => server.requests.filter((r) => r.path.startsWith(path)).length;

describe('http timeouts', () => {
  beforeEach(() => server.reset());

  it('does not cut a slow but live body that takes longer than the request timeout', async () => {
    await context({ retries: 0, timeout: '300ms', body_timeout: '2s' });
    // 8 chunks, one every 100 ms: the body takes ~900 ms in all, three times the request timeout.
    const result = await run({ url: `${server.url}/drip?chunks=8&every=100` });
    expect(result).toMatchObject({ rows: 8 });
    expect(requestsTo('/drip')).toBe(1);
  });

  it('fails a body that stalls with a body-phase timeout and retries the request', async () => {
    await context({ retries: 1, timeout: '5s', body_timeout: '200ms' });
    const failure = run({ url: `${server.url}/stall-body` });
    await expect(failure).rejects.toBeInstanceOf(RequestTimeoutError);
    await expect(failure).rejects.toMatchObject({ phase: 'body', code: 'stage_timeout', message: expect.stringContaining('stopped sending its answer for 200ms') });
    expect(requestsTo('/stall-body')).toBe(2);
    expect(ctx.retries).toHaveLength(1);
  });

  it('fails an answer that never starts with a connect-phase timeout', async () => {
    await context({ retries: 0, timeout: '200ms' });
    await expect(run({ url: `${server.url}/hang` })).rejects.toMatchObject({ name: 'RequestTimeoutError', phase: 'connect', message: expect.stringContaining('did not answer within 200ms') });
  });
});

describe('bodies that break off', () => {
  it('retries the request whose body was reset, loading every record once', async () => {
    await context({ retries: 2 });
    expect(await run({ url: `${server.url}/reset-body` })).toMatchObject({ rows: 2 });
    expect(requestsTo('/reset-body')).toBe(2);
    expect(ctx.retries[0].error).toContain('broke off');
  });

  it('retries only the broken page, never the pages fetched before it', async () => {
    await context({ retries: 2 });
    expect(await run({ url: `${server.url}/paged-reset`, pagination: { type: 'page' } })).toMatchObject({ rows: 4, outputs: { pages: 3 } });
    expect(server.requests.map((r) => r.path)).toEqual(['/paged-reset?page=1', '/paged-reset?page=2', '/paged-reset?page=2', '/paged-reset?page=3']);
  });

  it('fails a body shorter than its content-length as a broken connection', async () => {
    await context({ retries: 0 });
    const failure = run({ url: `${server.url}/short-body` });
    await expect(failure).rejects.toBeInstanceOf(NetworkError);
    await expect(failure).rejects.toThrow(/broke off after \d+ bytes/);
  });
});

describe('ragged CSV', () => {
  it('sends rows of the wrong width to dead letters with their line numbers and loads the rest', async () => {
    await context({ retries: 0 });
    expect(await run({ url: `${server.url}/ragged` })).toMatchObject({ rows: 3, total: 5 });
    expect(await ctx.db.query('SELECT * FROM api ORDER BY id')).toEqual([
      { id: expect.anything(), name: 'ada', score: expect.anything() },
      { id: expect.anything(), name: 'edsger', score: expect.anything() },
      { id: expect.anything(), name: 'alan', score: expect.anything() },
    ]);
    expect(ctx.letters.map((l) => [l.origin?.line, l.record])).toEqual([[3, { line: '2,grace' }], [5, { line: '4,barbara,40,extra' }]]);
    expect(ctx.letters[0].reason).toContain('Expected Number of Columns: 3 Found: 2');
  });
});

describe('large answers', () => {
  it('loads a JSON array too large to parse in memory through DuckDB, records path or not', async () => {
    await context({ retries: 0 });
    const plain = await run({ url: `${server.url}/big?mb=9` });
    const rows = Number(plain.rows);
    expect(rows).toBeGreaterThan(50_000);
    expect(await ctx.db.scalar('SELECT count(DISTINCT id) FROM api')).toBe(String(rows));
    const wrapped = await run({ url: `${server.url}/big?mb=9&wrap=items`, records: 'items' });
    expect(wrapped.rows).toBe(rows);
    expect(await ctx.db.query('SELECT id, name FROM api ORDER BY id LIMIT 1')).toEqual([{ id: '0', name: 'name-0' }]);
  });
});
