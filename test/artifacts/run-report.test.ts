import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { MAX_CELL_CHARS, renderChecksCsv, renderRunHtml, renderRunMarkdown, renderStagesCsv, toCsv } from '../../src/report/run-report.ts';

function sampleRecord(): RunRecord {
  return {
    runId: '20261201T060000.000Z-abc123',
    pipeline: 'daily-rates',
    status: 'failed',
    trigger: 'schedule',
    params: { base: 'EUR' },
    interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' },
    startedAt: '2026-12-01T06:00:00.000Z',
    finishedAt: '2026-12-01T06:01:05.000Z',
    durationMs: 65_000,
    stages: {
      extract: {
        status: 'succeeded', durationMs: 1200, rows: 42, table: 'extract',
        attempts: [{ attempt: 1, startedAt: '2026-12-01T06:00:00.000Z', finishedAt: '2026-12-01T06:00:00.500Z' }, { attempt: 2, startedAt: '2026-12-01T06:00:01.000Z', finishedAt: '2026-12-01T06:00:01.200Z' }],
        deadLetters: { count: 2, total: 44, file: 'dead-letters/extract.jsonl' },
        checks: [{ name: 'rows, at least 1', kind: 'row_count', severity: 'error', passed: true, failing: 42, message: 'ok' }],
      },
      clean: {
        status: 'failed', durationMs: 300, attempts: [{ attempt: 1, startedAt: '2026-12-01T06:00:02.000Z' }],
        error: { code: 'check_failed', name: 'CheckFailedError', message: 'check "a|b" failed: <script>alert(1)</script>\nsecond line' },
        checks: [{ name: 'not_null(rate)', kind: 'not_null', severity: 'error', passed: false, failing: 3, message: '3 rows have "rate" NULL, e.g. EUR' }],
      },
      save: { status: 'skipped', attempts: [], skipReason: 'upstream_failed', skipDetail: "upstream 'clean' failed" },
    },
  };
}

describe('run reports', () => {
  it('writes RFC 4180 CSV: quotes fields with commas, quotes and line breaks, CRLF line ends', () => {
    expect(toCsv([['a', 'b,c'], ['say "hi"', 'x\ny']])).toBe('a,"b,c"\r\n"say ""hi""","x\ny"\r\n');
  });

  it('lists every stage in stages.csv with attempts, retries, rows, checks and dead letters', () => {
    const lines = renderStagesCsv(sampleRecord()).split('\r\n');

    expect(lines[0]).toBe('stage,status,started_at,finished_at,duration_ms,attempts,retries,rows,table,checks_passed,checks_failed,dead_letters,error');
    expect(lines[1]).toBe('extract,succeeded,,,1200,2,1,42,extract,1,0,2,');
    expect(lines[2]).toMatch(/^clean,failed,.*,0,1,,"check ""a\|b"" failed/);
    expect(lines[3]).toBe("save,skipped,,,,0,0,,,0,0,,upstream 'clean' failed");
  });

  it('lists every check in checks.csv', () => {
    expect(renderChecksCsv(sampleRecord())).toBe(
      'stage,check,kind,severity,passed,failing,message\r\n' +
        'extract,"rows, at least 1",row_count,error,true,42,ok\r\n' +
        'clean,not_null(rate),not_null,error,false,3,"3 rows have ""rate"" NULL, e.g. EUR"\r\n',
    );
  });

  it('renders Markdown tables that a pipe or a line break in an error cannot break', () => {
    const markdown = renderRunMarkdown(sampleRecord());

    expect(markdown).toContain('# weir run daily-rates — failed');
    expect(markdown).toContain('| extract | succeeded | 1.2 s | 2 | 42 | 1 | 2 |  |');
    expect(markdown).toContain('check "a\\|b" failed: <script>alert(1)</script><br>second line');
    expect(markdown).toContain('| clean | not_null(rate) | error | failed | 3 |');
    expect(markdown.split('\n').filter((l) => l.startsWith('| clean | failed')).length).toBe(1);
  });

  it('renders self-contained HTML: escaped text, inline style, nothing fetched', () => {
    const html = renderRunHtml(sampleRecord());

    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script|<link|<img|\bsrc=|\bhref=|@import|url\(/i);
    expect(html).toContain('<td class="failed">failed</td>');
  });

  it('clips a huge error message in a table cell (run.json keeps it whole)', () => {
    const record = sampleRecord();
    record.stages.clean!.error!.message = 'x'.repeat(MAX_CELL_CHARS * 3);

    const row = renderStagesCsv(record).split('\r\n')[2]!;

    expect(row.length).toBeLessThan(MAX_CELL_CHARS + 200);
    expect(row.endsWith('…')).toBe(true);
  });
});
