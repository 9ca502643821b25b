/** Run records and a project for the status site tests: two pipelines, retries, checks, dead letters. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { RunRecord } from '../../src/ledger/run-record.ts';

const DAILY = `name: daily-rates
schedule: { cron: "17 6 * * *", timezone: UTC }
stages:
  extract:
    uses: sql
    with: { query: "select 1 as x" }
  clean:
    uses: sql
    needs: [extract]
    with: { query: "select 2 as y" }
`;

/** A finished run of `pipeline` started on 2026-11-`day` at 06:17 UTC, lasting `seconds`. */
export function finishedRun(pipeline: string, day: number, status: RunRecord['status'], seconds: number, extra: Partial<RunRecord> = {}): RunRecord {
  const start = Date.UTC(2026, 10, day, 6, 17);
  const at = (s: number) => new Date(start + s * 1000).toISOString();
  const stamp = new Date(start).toISOString().replace(/[-:]/g, '');
  return {
    runId: `${stamp}-${pipeline.slice(0, 2)}${String(day).padStart(4, '0')}`,
    pipeline,
    status,
    trigger: 'schedule',
    params: {},
    interval: { start: at(-86_400), end: at(0) },
    startedAt: at(0),
    finishedAt: at(seconds),
    durationMs: seconds * 1000,
    stages: {
      extract: { status: 'succeeded', startedAt: at(0), finishedAt: at(seconds / 2), durationMs: (seconds / 2) * 1000, attempts: [{ attempt: 1, startedAt: at(0), finishedAt: at(seconds / 2) }], rows: 10 },
      clean:
        status === 'failed'
          ? { status: 'failed', startedAt: at(seconds / 2), finishedAt: at(seconds), durationMs: (seconds / 2) * 1000, attempts: [{ attempt: 1, startedAt: at(seconds / 2), finishedAt: at(seconds) }], error: { code: 'stage_failed', name: 'StageError', message: 'clean broke <here>' } }
          : { status: 'succeeded', startedAt: at(seconds / 2), finishedAt: at(seconds), durationMs: (seconds / 2) * 1000, attempts: [{ attempt: 1, startedAt: at(seconds / 2), finishedAt: at(seconds) }], rows: 8 },
    },
    ...extra,
  };
}

/** Runs of daily-rates (days 20–25: one failure, one retried stage with checks and dead letters) and of an old pipeline. */
export function sampleRuns(): RunRecord[] {
  const retried = finishedRun('daily-rates', 25, 'succeeded', 40, { provenance: { workflowRunUrl: 'https://github.com/acme/data/actions/runs/42', commit: 'abcdef1234567890' } });
  retried.stages.clean!.attempts = [
    { attempt: 1, startedAt: retried.stages.clean!.startedAt!, finishedAt: retried.stages.clean!.startedAt!, error: { code: 'stage_failed', name: 'HttpError', message: 'HTTP 503 from api' }, delayMs: 1000 },
    { attempt: 2, startedAt: retried.stages.clean!.startedAt!, finishedAt: retried.stages.clean!.finishedAt },
  ];
  retried.stages.clean!.checks = [
    { name: 'not_null(rate)', kind: 'not_null', severity: 'error', passed: true, failing: 0, message: 'ok' },
    { name: 'unique(day)', kind: 'unique', severity: 'warn', passed: false, failing: 2, message: '2 duplicate rows' },
  ];
  retried.stages.clean!.deadLetters = { count: 3, total: 11, table: 'clean_dead_letters' };
  return [
    finishedRun('daily-rates', 20, 'succeeded', 30),
    finishedRun('daily-rates', 21, 'succeeded', 34),
    finishedRun('daily-rates', 22, 'failed', 12),
    finishedRun('daily-rates', 23, 'succeeded', 36),
    finishedRun('daily-rates', 24, 'succeeded', 38),
    retried,
    finishedRun('legacy-export', 1, 'failed', 5),
  ];
}

/** A temp project with pipelines/daily-rates.yml, removed when the test finishes. */
export function sampleProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-site-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'pipelines', 'daily-rates.yml');
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, DAILY);
  return dir;
}
