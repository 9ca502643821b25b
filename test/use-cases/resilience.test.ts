/**
 * Resilience through the whole run use case: real DuckDB, real child processes, a real HTTP server
 * on loopback producing faults. Sleep is injected (and recorded) so schedules are exact and fast.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { CancelledError } from '../../src/model/errors.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { startFaultServer, startTestServer, type FaultServer } from '../stages/http-server.ts';
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

export interface RunTestOptions {
  policies?: PolicyConfig;
  hasResource?: (name: string) => boolean;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** Sees every event as it is emitted (e.g. to cancel at an exact point). */
  onEvent?: (event: RunEvent) => void;
  /** Writes files into the project before the run. */
  setup?: (root: string) => void;
}

async function run(yaml: string, options: RunTestOptions = {}) {
  const root = mkdtempSync(join(tmpdir(), 'weir-resilience-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  options.setup?.(root);
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true, policies: options.policies });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const events: RunEvent[] = [];
  const sleeps: number[] = [];
  const deps = createLocalRunDeps(
    { root, env: options.env },
    {
      clock: {
        now: Date.now,
        sleep: async (ms: number) => {
          sleeps.push(ms);
        },
        random: () => 0.5,
      },
      detectResource: async (name) => ({ available: options.hasResource?.(name) ?? false, source: 'override', devices: [] }),
    },
  );
  const summary = await runPipeline(
    { pipeline: pipeline!, root, kinds: defaultStageKinds(), policies: options.policies, listeners: [(e) => events.push(e), (e) => options.onEvent?.(e)], signal: options.signal },
    deps,
  );
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

describe('exit-code rules', () => {
  it('retries only the exit codes retry_on.exit_codes lists, and never those no_retry_on lists', async () => {
    const policy = '{ retries: 3, initial_delay: 10ms, backoff: fixed, jitter: none, retry_on: { exit_codes: [75] }, no_retry_on: { exit_codes: [2] } }';
    // Exits 75 (temporary failure) twice, then succeeds: retried on the listed code.
    const tempfail = await run(`name: p
stages:
  sync:
    uses: command
    policy: ${policy}
    with: { run: 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count; [ $n -ge 2 ] || exit 75' }
`);
    expect(tempfail.record.stages.sync.status).toBe('succeeded');
    expect(tempfail.sleeps).toEqual([10, 10]);
    expect(tempfail.record.stages.sync.attempts[0].error).toMatchObject({ name: 'ExitCodeError', message: expect.stringContaining('exited with code 75') });
    for (const code of [3, 2]) {
      const other = await run(`name: p\nstages:\n  sync:\n    uses: command\n    policy: ${policy}\n    with: { run: 'exit ${code}' }\n`);
      expect(other.record.stages.sync).toMatchObject({ status: 'failed', error: { name: 'ExitCodeError' } });
      expect(other.record.stages.sync.attempts).toHaveLength(1);
      expect(other.sleeps).toEqual([]);
    }
  });
});

describe('honest attempts', () => {
  let faults: FaultServer;
  beforeAll(async () => {
    faults = await startFaultServer();
  });
  afterAll(() => faults.close());

  it('records exactly the attempts that ran when a stage timeout cuts a hanging request', async () => {
    faults.reset();
    const { record, events, sleeps } = await run(`name: p
stages:
  api:
    uses: http
    timeout: 300ms
    policy: { retries: 1, initial_delay: 10ms, backoff: fixed, jitter: none }
    with: { url: "${faults.url}/hang" }
`);
    expect(record.stages.api).toMatchObject({ status: 'failed', error: { code: 'stage_timeout' } });
    expect(faults.requests.filter((r) => r.path === '/hang')).toHaveLength(2);
    expect(record.stages.api.attempts.map((a) => [a.attempt, a.error?.code])).toEqual([[1, 'stage_timeout'], [2, 'stage_timeout']]);
    expect(events.filter((e) => e.type === 'stage.retrying')).toHaveLength(1);
    expect(sleeps).toEqual([10]);
  });
});

describe('permanent failures', () => {
  const policy = '{ retries: 3, initial_delay: 10ms, backoff: fixed, jitter: none }';
  const once = (record: Awaited<ReturnType<typeof run>>['record'], stage: string) => {
    expect(record.stages[stage].status).toBe('failed');
    expect(record.stages[stage].attempts).toHaveLength(1);
  };

  it('does not retry a missing SQL file', async () => {
    const { record, sleeps } = await run(`name: p\nstages:\n  q:\n    uses: sql\n    policy: ${policy}\n    with: { query: pipelines/sql/missing.sql }\n`);
    once(record, 'q');
    expect(record.stages.q.error?.message).toContain('pipelines/sql/missing.sql');
    expect(sleeps).toEqual([]);
  });

  it('does not retry a script without the exec bit', async () => {
    const { record, sleeps } = await run(`name: p\nstages:\n  s:\n    uses: command\n    policy: ${policy}\n    with: { script: job.sh }\n`, {
      setup: (root) => writeFileSync(join(root, 'job.sh'), '#!/bin/sh\necho hi\n', { mode: 0o644 }),
    });
    once(record, 's');
    expect(record.stages.s.error?.message).toContain('chmod +x job.sh');
    expect(sleeps).toEqual([]);
  });

  it('does not retry an empty answer without allow_empty', async () => {
    const api = await startTestServer();
    onTestFinished(() => api.close());
    const { record, sleeps } = await run(`name: p\nstages:\n  api:\n    uses: http\n    policy: ${policy}\n    with: { url: "${api.url}/empty" }\n`);
    once(record, 'api');
    expect(api.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('refuses an unset env variable, naming it and the field, and renders with once', async () => {
    const yaml = `name: p
stages:
  api:
    uses: command
    policy: ${policy}
    with: { run: 'echo "{{ env.WEIR_TEST_TOKEN }}" > token', env: { LEVEL: "{{ env.WEIR_TEST_LEVEL | default('info') }}" } }
`;
    const unset = await run(yaml, { env: { PATH: process.env.PATH } });
    once(unset.record, 'api');
    expect(unset.record.stages.api.error?.message).toMatch(/stage 'api': with\.run: .*environment variable 'WEIR_TEST_TOKEN' is not set/);
    expect(unset.sleeps).toEqual([]);
    const set = await run(yaml, { env: { PATH: process.env.PATH, WEIR_TEST_TOKEN: 'abc' } });
    expect(set.record.stages.api.status).toBe('succeeded');
    expect(readFileSync(join(set.root, 'token'), 'utf8')).toBe('abc\n');
  });
});

describe('dead letters once', () => {
  it('keeps exactly the bad records of the final attempt, written once', async () => {
    const { record, runDir } = await run(`name: p
stages:
  api:
    uses: http
    policy: { retries: 2, initial_delay: 10ms, jitter: none, max_dead_letter_ratio: 0, retry_on: { errors: [check_failed] } }
    with: { url: "${base}/mixed" }
`);
    expect(record.stages.api.attempts).toHaveLength(3);
    expect(record.stages.api.deadLetters).toMatchObject({ count: 2, total: 5 });
    const lines = readFileSync(join(runDir, 'dead-letters', 'api.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => JSON.parse(l).record)).toEqual(['garbage', null]);
  });
});

describe('cancellation', () => {
  it('reports a cancelled stage with the CancelledError: no retry, no extra attempt', async () => {
    const controller = new AbortController();
    const { record, events, sleeps } = await run(`name: p
stages:
  long:
    uses: command
    policy: { retries: 3, initial_delay: 10ms, jitter: none }
    with: { run: 'echo started; sleep 30' }
`, {
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === 'stage.log' && e.line === 'started') controller.abort(new CancelledError('cancelled by the test'));
      },
    });
    expect(events.filter((e) => e.type === 'stage.retrying')).toEqual([]);
    expect(sleeps).toEqual([]);
    expect(record.stages.long.attempts).toHaveLength(1);
    expect(record.stages.long.status).toBe('cancelled');
    expect(record).toMatchObject({ status: 'cancelled', error: { code: 'cancelled', name: 'CancelledError', message: 'cancelled by the test' } });
  });
});
