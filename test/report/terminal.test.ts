import { describe, expect, it } from 'vitest';
import { foldEvents } from '../../src/ledger/run-record.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { PLAIN, formatEventLine, renderRunDetail, renderTable } from '../../src/report/terminal.ts';

const at = '2026-11-22T06:17:00.000Z';
const events: RunEvent[] = [
  { type: 'run.started', runId: 'r1', at, pipeline: 'p', params: {}, interval: { start: at, end: at }, trigger: 'manual', stages: ['api'] },
  { type: 'stage.started', runId: 'r1', at, stage: 'api', attempt: 1 },
  { type: 'stage.retrying', runId: 'r1', at, stage: 'api', attempt: 1, delayMs: 1500, error: { code: 'stage_failed', name: 'HttpStatusError', message: 'GET http://x answered HTTP 503' } },
  { type: 'ratelimit.waited', runId: 'r1', at, stage: 'api', key: 'polite-api:x', waitedMs: 400 },
  { type: 'breaker.changed', runId: 'r1', at, key: 'polite-api:x', from: 'closed', to: 'open' },
  { type: 'stage.dead_letters', runId: 'r1', at, stage: 'api', count: 2, total: 10, file: '/runs/r1/dead-letters/api.jsonl', table: 'api__dead_letters' },
  { type: 'stage.succeeded', runId: 'r1', at, stage: 'api', attempt: 2, durationMs: 2100, rows: 8 },
  { type: 'run.finished', runId: 'r1', at, status: 'succeeded', durationMs: 2200 },
];

describe('terminal renderers', () => {
  it('shows attempts, dead letters, rate-limit waits and breaker transitions of a run', () => {
    const text = renderRunDetail(foldEvents(events)!);
    expect(text).toContain('api #1 2026-11-22T06:17:00.000Z ✖ [stage_failed] GET http://x answered HTTP 503 · next in 1.50s');
    expect(text).toContain('api: 2 of 10 records → /runs/r1/dead-letters/api.jsonl');
    expect(text).toContain('rate-limit waits:\n  api: 400ms');
    expect(text).toContain('polite-api:x: closed → open');
    expect(text).toMatch(/api\s+succeeded\s+2\s+2\.10s\s+8\s+2/);
  });

  it('formats stage lines with rows, checks and retries', () => {
    const line = formatEventLine({ type: 'stage.succeeded', runId: 'r', at, stage: 'clean', attempt: 3, durationMs: 12, rows: 1234, checks: [{ name: 'c', kind: 'not_null', severity: 'warn', passed: false, failing: 1, message: 'm' }] }, PLAIN);
    expect(line).toBe('  ✔ clean 12ms 1,234 rows · 1 check, 1 warned (attempt 3)');
    expect(formatEventLine({ type: 'stage.log', runId: 'r', at, stage: 's', stream: 'stdout', line: 'x' }, PLAIN)).toBeUndefined();
  });

  it('pads table columns to their widest cell', () => {
    expect(renderTable(['a', 'bb'], [['xyz', '1']])).toBe('a    bb\n───  ──\nxyz  1');
  });
});

describe('renderRunDetail provenance', () => {
  it('shows where a run on GitHub came from: commit, ref, event, actor and the workflow run', () => {
    const started = { ...events[0], provenance: { commit: '0123456789abcdef0123', ref: 'refs/heads/main', event: 'schedule', actor: 'octocat', workflowRunUrl: 'https://github.com/acme/data/actions/runs/42', runAttempt: 2 } } as RunEvent;
    const text = renderRunDetail(foldEvents([started, ...events.slice(1)])!);
    expect(text).toContain('from commit 0123456789ab · refs/heads/main · event schedule · by octocat');
    expect(text).toContain('workflow run https://github.com/acme/data/actions/runs/42 (attempt 2)');
    expect(renderRunDetail(foldEvents(events)!)).not.toContain('workflow run');
  });
});
