import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/model/diagnostic.ts';
import type { RunRecord, StageRecord } from '../../src/ledger/run-record.ts';
import { createPlan } from '../../src/planner/plan.ts';
import type { PipelineSpec } from '../../src/model/pipeline.ts';
import { renderRunSummary, renderValidationSummary, STEP_SUMMARY_BUDGET_BYTES } from '../../src/report/run-summary.ts';

const SPEC = { name: 'rates', stages: { extract: { uses: 'sql', with: { query: 'select 1' } }, clean: { uses: 'sql', needs: ['extract'], with: { query: 'select 1' } } } } as unknown as PipelineSpec;
const PLAN = createPlan(SPEC, {});

function stage(status: StageRecord['status'], checks = 0): StageRecord {
  const results = Array.from({ length: checks }, (_, i) => ({ name: `not_null(c${i})`, kind: 'not_null', severity: 'error' as const, passed: i % 2 === 0, failing: i % 2, message: `check ${i} | with a pipe` }));
  return { status, attempts: [{ attempt: 1, startedAt: '2026-11-30T00:00:00.000Z' }], durationMs: 1500, rows: 10, ...(checks ? { checks: results } : {}) };
}

function record(checks = 0): RunRecord {
  return {
    runId: 'r1',
    pipeline: 'rates',
    status: 'failed',
    trigger: 'schedule',
    params: {},
    interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' },
    startedAt: '2026-11-30T00:00:00.000Z',
    durationMs: 3000,
    stages: { extract: stage('succeeded', checks), clean: { ...stage('failed'), error: { code: 'stage_failed', name: 'StageFailedError', message: 'boom', retryable: false } as never } },
  };
}

const LOGS = new Map([['extract', Array.from({ length: 200 }, (_, i) => `log line ${i} ${'x'.repeat(40)}`)]]);

describe('renderRunSummary', () => {
  it('shows the DAG coloured by stage status, the stage table, the checks and the logs when everything fits', () => {
    const { markdown, detail } = renderRunSummary({ record: record(3), plan: PLAN, logs: LOGS });
    expect(detail).toBe('full');
    expect(markdown).toContain('classDef failed fill:#ffebe9');
    expect(markdown.indexOf('classDef succeeded')).toBeLessThan(markdown.indexOf('class s_extract succeeded'));
    expect(markdown).toContain('| extract | ✅ succeeded | 1.50s | 1 | 10 | 2/3 |  |');
    expect(markdown).toContain('check 1 \\| with a pipe');
    expect(markdown).toContain('log line 199');
  });

  it('drops the logs first when the summary would pass the budget', () => {
    const full = renderRunSummary({ record: record(3), plan: PLAN, logs: LOGS }).markdown;
    const { markdown, detail } = renderRunSummary({ record: record(3), plan: PLAN, logs: LOGS }, Buffer.byteLength(full) - 1);
    expect(detail).toBe('no-logs');
    expect(markdown).not.toContain('log line');
    expect(markdown).toContain('### Checks');
  });

  it('then drops the per-check rows, keeping the stage table', () => {
    const input = { record: record(2000), plan: PLAN, logs: LOGS };
    const noLogs = renderRunSummary(input, Buffer.byteLength(renderRunSummary(input).markdown) - 1).markdown;
    const { markdown, detail } = renderRunSummary(input, Buffer.byteLength(noLogs) - 1);
    expect(detail).toBe('no-rows');
    expect(markdown).not.toContain('### Checks');
    expect(markdown).toContain('| extract | ✅ succeeded | 1.50s | 1 | 10 | 1000/2000 |  |');
  });

  it('keeps only the totals when even the stage table does not fit, and never passes the budget', () => {
    const { markdown, detail } = renderRunSummary({ record: record(3), plan: PLAN, logs: LOGS }, 400);
    expect(detail).toBe('totals');
    expect(markdown).toContain('2 stages: 1 succeeded, 1 failed');
    expect(Buffer.byteLength(markdown)).toBeLessThanOrEqual(400);
    expect(Buffer.byteLength(renderRunSummary({ record: record(3), plan: PLAN }, 60).markdown)).toBeLessThanOrEqual(60);
  });

  it('stays within the 1 MiB step summary limit with 100,000 check rows', () => {
    const { markdown, detail } = renderRunSummary({ record: record(100_000), plan: PLAN, logs: LOGS });
    expect(detail).toBe('no-rows');
    expect(Buffer.byteLength(markdown)).toBeLessThanOrEqual(STEP_SUMMARY_BUDGET_BYTES);
  });
});

describe('renderValidationSummary', () => {
  const diagnostics: Diagnostic[] = Array.from({ length: 50 }, (_, i) => ({ code: 'WEIR202', severity: 'error', file: `pipelines/p${i}.yml`, line: 5, column: 12, message: `problem ${i}` }));

  it('lists every diagnostic, then only the totals when the rows would pass the budget', () => {
    const full = renderValidationSummary({ ok: false, files: diagnostics.map((d) => d.file), diagnostics, plans: [] });
    expect(full.detail).toBe('full');
    expect(full.markdown.match(/\| ❌ error \| WEIR202 \|/g)).toHaveLength(50);
    const small = renderValidationSummary({ ok: false, files: [], diagnostics, plans: [] }, 200);
    expect(small.detail).toBe('no-rows');
    expect(small.markdown).toContain('50 errors, 0 warnings');
    expect(small.markdown).not.toContain('problem 0');
  });
});
