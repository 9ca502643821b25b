/**
 * Resilience through the whole run use case: real DuckDB, real child processes, a real HTTP server
 * on loopback producing faults. Sleep is injected (and recorded) so schedules are exact and fast.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../../src/model/events.ts';
import type { PolicyConfig } from '../../src/policies/policy.ts';
import { runPipeline } from '../../src/use-cases/run-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';

let server: Server;
let base: string;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    if (path.startsWith('/flaky')) return n <= 2 ? send(500, { error: 'boom' }) : send(200, [{ id: 1 }, { id: 2 }, { id: 3 }]);
    if (path.startsWith('/throttled')) return n === 1 ? send(429, {}, { 'retry-after': '1' }) : send(200, [{ id: 1 }]);
    if (path.startsWith('/down')) return send(503, { error: 'down' });
    if (path.startsWith('/mixed')) return send(200, [{ id: 1 }, 'garbage', { id: 2 }, null, { id: 3 }]);
    if (path.startsWith('/nullable')) return send(200, [{ id: 1, v: 'a' }, { id: 2, v: null }, { id: 3, v: 'c' }, { id: 4, v: 'd' }]);
    send(404, { error: 'no route' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function run(yaml: string, options: { policies?: PolicyConfig; hasResource?: (name: string) => boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'weir-resilience-'));
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true, policies: options.policies });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const events: RunEvent[] = [];
  const sleeps: number[] = [];
  const deps = createLocalRunDeps(
    { root },
    {
      clock: {
        now: Date.now,
        sleep: async (ms: number) => {
          sleeps.push(ms);
        },
        random: () => 0.5,
      },
      hasResource: options.hasResource ?? (() => false),
    },
  );
  const summary = await runPipeline({ pipeline: pipeline!, root, kinds: defaultStageKinds(), policies: options.policies, listeners: [(e) => events.push(e)] }, deps);
  return { ...summary, events, sleeps, root };
}

describe('retries', () => {
  it('retries a failing command on the exact backoff schedule and records every attempt', async () => {
    const { record, sleeps } = await run(`name: p
stages:
  flaky:
    uses: command
    policy: { retries: 3, backoff: exponential, initial_delay: 100ms, jitter: none }
    with: { run: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ]' }
`);
    expect(record.status).toBe('succeeded');
    expect(sleeps).toEqual([100, 200]);
    const attempts = record.stages.flaky.attempts;
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    expect(attempts[0]).toMatchObject({ delayMs: 100, error: { code: 'stage_failed' } });
    expect(attempts[2].error).toBeUndefined();
  });

  it('gives up after the last retry and records the final error', async () => {
    const { record, sleeps } = await run(`name: p
stages:
  broken:
    uses: command
    policy: { retries: 2, backoff: fixed, initial_delay: 50ms, jitter: none }
    with: { run: 'exit 3' }
`);
    expect(record.status).toBe('failed');
    expect(sleeps).toEqual([50, 50]);
    expect(record.stages.broken.attempts).toHaveLength(3);
    expect(record.stages.broken.error?.message).toContain('exit');
  });

  it('does not retry SQL that is wrong in itself', async () => {
    const { record, sleeps } = await run(`name: p\nstages:\n  bad:\n    uses: sql\n    with: { query: select * from missing_table }\n`);
    expect(record.stages.bad.status).toBe('failed');
    expect(record.stages.bad.attempts).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries HTTP 500s per request and loads every record once', async () => {
    const { record, sleeps } = await run(`name: p
stages:
  api:
    uses: http
    policy: { retries: 4, backoff: linear, initial_delay: 10ms, jitter: none }
    with: { url: "${base}/flaky-1" }
`);
    expect(record.status).toBe('succeeded');
    expect(record.stages.api.rows).toBe(3);
    expect(sleeps).toEqual([10, 20]);
    expect(hits.get('/flaky-1')).toBe(3);
    expect(record.stages.api.attempts.map((a) => a.error?.message ?? 'ok')).toEqual([expect.stringContaining('500'), expect.stringContaining('500'), 'ok']);
  });

  it('honours Retry-After on a 429, capped by max_delay', async () => {
    const { record, sleeps } = await run(`name: p
stages:
  api:
    uses: http
    policy: { retries: 2, initial_delay: 10ms, max_delay: 500ms, jitter: none }
    with: { url: "${base}/throttled-1" }
`);
    expect(record.status).toBe('succeeded');
    expect(sleeps).toEqual([500]);
  });
});

describe('timeouts, resources and breakers', () => {
  it('kills a command that runs past its timeout and reports a stage timeout', async () => {
    const started = Date.now();
    const { record } = await run(`name: p
stages:
  slow:
    uses: command
    timeout: 300ms
    policy: { retries: 0 }
    with: { run: 'sleep 20' }
`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(record.stages.slow).toMatchObject({ status: 'failed', error: { code: 'stage_timeout' } });
  });

  it('interrupts a long DuckDB query when the stage times out', async () => {
    const started = Date.now();
    const { record } = await run(`name: p
stages:
  heavy:
    uses: sql
    timeout: 300ms
    policy: { retries: 0 }
    with: { query: "select sum(i * i % 7) as s from range(100000000000) t(i)" }
`);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(record.stages.heavy).toMatchObject({ status: 'failed', error: { code: 'stage_timeout' } });
  });

  it('fails a GPU stage fast on a machine without a GPU, with no retries', async () => {
    const { record, sleeps } = await run(`name: p
stages:
  embed:
    uses: command
    requires: [gpu]
    policy: gpu-bound
    with: { run: 'echo never' }
`);
    expect(record.stages.embed).toMatchObject({ status: 'failed', error: { code: 'resource_unavailable', name: 'ResourceUnavailableError' } });
    expect(record.stages.embed.attempts).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('runs the GPU stage where the resource is present', async () => {
    const { record } = await run(`name: p\nstages:\n  embed:\n    uses: command\n    requires: [gpu]\n    with: { run: 'echo ok' }\n`, { hasResource: (n) => n === 'gpu' });
    expect(record.stages.embed.status).toBe('succeeded');
  });

  it('opens the breaker after the threshold so later calls fail fast', async () => {
    const policies: PolicyConfig = {
      policies: { fragile: { retries: 0, breaker: { failures: 2, window: '60s', half_open_after: '60s', key: 'host' } } },
    };
    const stage = (name: string, needs?: string) =>
      `  ${name}:\n    uses: http\n    policy: fragile\n${needs ? `    needs: [${needs}]\n` : ''}    with: { url: "${base}/down-${name}" }\n`;
    const { record } = await run(`name: p\nconcurrency: 1\nstages:\n${stage('a')}${stage('b')}${stage('c')}`, { policies });
    expect(record.stages.a.error?.message).toContain('503');
    expect(record.stages.b.error?.message).toContain('503');
    expect(record.stages.c.error).toMatchObject({ code: 'circuit_open' });
    expect(hits.get('/down-c')).toBeUndefined();
    expect(record.breakers).toEqual([expect.objectContaining({ from: 'closed', to: 'open' })]);
  });
});

describe('dead letters', () => {
  it('sets unparseable records aside with reasons and keeps the rest', async () => {
    const { record, runDir } = await run(`name: p
stages:
  api:
    uses: http
    policy: { max_dead_letter_ratio: 0.5 }
    with: { url: "${base}/mixed" }
`);
    expect(record.status).toBe('succeeded');
    expect(record.stages.api).toMatchObject({ rows: 3, deadLetters: { count: 2, total: 5 } });
    const letters = readFileSync(join(runDir, 'dead-letters', 'api.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(letters.map((l) => l.record)).toEqual(['garbage', null]);
    expect(letters[0].reason).toBeTruthy();
  });

  it('diverts rows failing a row-level check and fails only above the threshold', async () => {
    const yaml = (ratio: number) => `name: p
stages:
  api:
    uses: http
    policy: { max_dead_letter_ratio: ${ratio} }
    with: { url: "${base}/nullable" }
    checks: [ { not_null: [v] } ]
`;
    const lenient = await run(yaml(0.25));
    expect(lenient.record.stages.api).toMatchObject({ status: 'succeeded', rows: 3, deadLetters: { count: 1, total: 4 } });
    const strict = await run(yaml(0));
    expect(strict.record.stages.api).toMatchObject({ status: 'failed', error: { code: 'check_failed' } });
    expect(strict.record.stages.api.attempts).toHaveLength(1);
    expect(existsSync(join(strict.runDir, 'dead-letters', 'api.jsonl'))).toBe(true);
  });
});

describe('request timeouts', () => {
  it('retries an HTTP request that does not answer within the policy timeout, per request', async () => {
    let calls = 0;
    const slow = createServer((_req, res) => {
      calls++;
      // The first answer comes too late; the second at once.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('[{"id":1}]');
      }, calls === 1 ? 2_000 : 0);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
    try {
      const { record, sleeps } = await run(`name: p
stages:
  api:
    uses: http
    policy: { retries: 2, timeout: 200ms, initial_delay: 10ms, backoff: fixed, jitter: none }
    with: { url: "${url}" }
`);
      expect(record.status).toBe('succeeded');
      expect(sleeps).toEqual([10]);
      expect(record.stages.api.attempts[0].error).toMatchObject({ code: 'stage_timeout', message: expect.stringContaining('did not answer within 200ms') });
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });
});
