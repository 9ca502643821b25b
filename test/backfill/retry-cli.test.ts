/** `weir retry` through the real CLI: a new attempt of a run that reruns only what failed and what depends on it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, weir } from '../cli/helpers.ts';

const FLAKY = `name: flaky
params:
  factor: { type: integer, default: 2 }
stages:
  orders:
    uses: sql
    with: { query: "select * from (values (1, 3), (2, 5)) t(id, qty)" }
  side:
    uses: sql
    needs: [orders]
    with: { query: "select count(*) as n from orders" }
  gate:
    uses: command
    needs: [orders]
    policy: { retries: 0 }
    with: { run: 'test -f ok' }
  scaled:
    uses: sql
    needs: [orders, gate]
    with: { query: "select id, qty * {{ params.factor }} as qty from orders" }
`;

describe('weir retry', () => {
  it('reruns only the failed stage and its downstream, reusing the rest, as attempt 2 of the same run', async () => {
    const dir = project({ 'pipelines/flaky.yml': FLAKY });
    const failed = await weir(dir, ['run', 'flaky', '-p', 'factor=3', '--date', '2025-02-01', '--json']);
    expect(failed.code).toBe(1);
    const first = JSON.parse(failed.stdout);
    expect(first.stages.gate.status).toBe('failed');
    expect(first.stages.scaled.status).toBe('skipped');
    writeFileSync(join(dir, 'ok'), '');

    const retried = await weir(dir, ['retry', first.runId, '--json']);
    expect(retried.stderr).toBe('');
    expect(retried.code).toBe(0);
    const attempt = JSON.parse(retried.stdout);
    expect(attempt).toMatchObject({ trigger: 'retry', retryOf: first.runId, attempt: 2, params: first.params, interval: first.interval, status: 'succeeded' });
    expect(attempt.params.factor).toBe(3);
    expect(attempt.stages.orders).toMatchObject({ status: 'reused', reusedFrom: first.runId });
    expect(attempt.stages.side).toMatchObject({ status: 'reused', reusedFrom: first.runId });
    expect(attempt.stages.gate.status).toBe('succeeded');
    expect(attempt.stages.scaled.status).toBe('succeeded');

    const shown = await weir(dir, ['history', first.runId, '--table']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`attempts: #1 ${first.runId} failed · #2 ${attempt.runId} succeeded`);
    expect((await weir(dir, ['history', attempt.runId, '--table'])).stdout).toContain(`attempt 2 of run ${first.runId}`);
    const again = await weir(dir, ['retry', first.runId]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`(attempt 2: run ${attempt.runId})`);
  });

  it('refuses to retry a run that succeeded, or an unknown run, with exit 2, running nothing', async () => {
    const dir = project({ 'pipelines/flaky.yml': FLAKY, ok: '' });
    const ok = JSON.parse((await weir(dir, ['run', 'flaky', '--json'])).stdout);
    const refused = await weir(dir, ['retry', ok.runId]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`run ${ok.runId} of 'flaky' succeeded; there is nothing to retry`));
    expect(JSON.parse((await weir(dir, ['history', 'flaky', '--json'])).stdout)).toHaveLength(1);
    expect((await weir(dir, ['retry', 'nosuchrun'])).code).toBe(2);
  });
});
