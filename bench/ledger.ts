/**
 * Ledger cost as history grows: finishing one run, and listing the newest 20, with 10,000 runs
 * already in the month vs an empty ledger (goal ≤ 1.2× each). Measured in process (the store
 * alone, a fresh store per sample as a CLI process would open) and as the whole
 * `weir history --limit 20` process. Listing is also compared with a 20-run ledger: an empty one
 * reads no record at all, so only that comparison isolates the size of the history.
 *
 * The 10,000 runs are written straight to their files (the layout of fs-ledger-store.ts) rather
 * than through 10,000 fsynced finishes: the set-up is not what is measured.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FsLedgerStore } from '../src/ledger/fs-ledger-store.ts';
import { newRunId } from '../src/ledger/run-id.ts';
import { foldEvents, type RunRecord } from '../src/ledger/run-record.ts';
import type { RunEvent } from '../src/model/events.ts';
import { markdownTable, median, ms, round, tempProject, timeProcess, WEIR, type Suite } from './lib.ts';

const HISTORY = 10_000;
const MONTH_START = Date.parse('2026-11-01T00:00:00.000Z');

function run(pipeline: string, startedMs: number, suffix: string): RunRecord {
  const runId = newRunId(startedMs, () => suffix);
  const at = new Date(startedMs).toISOString();
  const end = new Date(startedMs + 1500).toISOString();
  const events: RunEvent[] = [
    { type: 'run.started', runId, at, pipeline, params: {}, interval: { start: at, end }, trigger: 'schedule', stages: ['extract', 'load'] },
    { type: 'stage.started', runId, at, stage: 'extract', attempt: 1 },
    { type: 'stage.succeeded', runId, at: end, stage: 'extract', attempt: 1, durationMs: 1000, rows: 120, table: 'extract' },
    { type: 'stage.started', runId, at: end, stage: 'load', attempt: 1 },
    { type: 'stage.succeeded', runId, at: end, stage: 'load', attempt: 1, durationMs: 500, rows: 120, table: 'load' },
    { type: 'run.finished', runId, at: end, status: 'succeeded', durationMs: 1500 },
  ];
  return foldEvents(events)!;
}

function seedLedger(ledgerDir: string, runs: number): void {
  // 10,000 runs in one month: one every 4 minutes, ~347 a day (fewer runs: the month's last ones).
  const spacingMs = Math.floor((28 * 86_400_000) / HISTORY);
  const first = HISTORY - runs;
  for (let i = first; i < HISTORY; i++) {
    const record = run('daily', MONTH_START + i * spacingMs, i.toString(16).padStart(6, '0'));
    const dayDir = join(ledgerDir, 'daily', 'runs', record.startedAt.slice(0, 7), record.startedAt.slice(8, 10));
    mkdirSync(dayDir, { recursive: true });
    writeFileSync(join(dayDir, `${record.runId}.json`), JSON.stringify({ ...record, commit: { watermarks: { cursor: String(i) } } }));
  }
  writeFileSync(join(ledgerDir, 'daily', 'state.json'), JSON.stringify({ version: 2, watermarks: { cursor: String(runs) }, processedFiles: {}, applied: [] }));
}

async function elapsedMs(once: () => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  await once();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

/** Medians per key; each sample runs every step, in an order rotated per sample (no order bias). */
async function sampleRotating(samples: number, steps: Record<string, (i: number) => Promise<unknown>>) {
  const names = Object.keys(steps);
  const times: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = -1; i < samples; i++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + Math.max(i, 0)) % names.length];
      const ms = await elapsedMs(() => steps[name](i));
      if (i >= 0) times[name].push(ms); // i = -1 is the warm-up
    }
  }
  return Object.fromEntries(names.map((n) => [n, median(times[n])]));
}

/** Sample i finishes a run after the seeded ones, on the last seeded day (a fresh store each time, like a CLI process). */
function finishSample(ledgerDir: string) {
  return (i: number) => {
    const record = run('daily', MONTH_START + 28 * 86_400_000 - 3_600_000 + (i + 1) * 1000, 'bench0');
    const commit = { watermarks: { cursor: String(HISTORY + i) }, processedFiles: [{ hash: `h${i}`, path: `in/${i}.csv`, bytes: 1 }] };
    return new FsLedgerStore(ledgerDir).finishRun(record, commit);
  };
}

const listSample = (ledgerDir: string) => () => new FsLedgerStore(ledgerDir).listRuns({ limit: 20 });

function historySample(project: string) {
  return async () => timeProcess([WEIR, 'history', '--limit', '20', '--json'], project);
}

const ratio = (baseMs: number, fullMs: number) => ({ baselineMs: round(baseMs, 2), at10kMs: round(fullMs, 2), ratio: round(fullMs / baseMs, 2) });

/**
 * Ledgers: `empty`, `twenty` (20 runs: the same 20 records to read as at 10k, so only history size
 * differs) and `full` (10,000 runs in the month). Listings are measured on ledgers nothing writes
 * to; finishes go to their own copies.
 */
export async function benchLedger(samples = 41) {
  const projects = { empty: tempProject({ 'pipelines/.keep': '' }), twenty: tempProject({ 'pipelines/.keep': '' }), full: tempProject({ 'pipelines/.keep': '' }) };
  const finishDirs = { empty: tempProject({}), full: tempProject({}) };
  const ledger = (project: string) => join(project, '.weir', 'ledger');
  try {
    mkdirSync(ledger(projects.empty), { recursive: true });
    seedLedger(ledger(projects.twenty), 20);
    seedLedger(ledger(projects.full), HISTORY);
    seedLedger(finishDirs.full, HISTORY);
    const finish = await sampleRotating(samples, { empty: finishSample(finishDirs.empty), full: finishSample(finishDirs.full) });
    const list = await sampleRotating(samples, { empty: listSample(ledger(projects.empty)), twenty: listSample(ledger(projects.twenty)), full: listSample(ledger(projects.full)) });
    const history = await sampleRotating(11, { empty: historySample(projects.empty), twenty: historySample(projects.twenty), full: historySample(projects.full) });
    return {
      runsInMonth: HISTORY,
      finishOneRun: ratio(finish.empty, finish.full),
      listRunsLimit20VsEmpty: ratio(list.empty, list.full),
      listRunsLimit20Vs20Runs: ratio(list.twenty, list.full),
      historyLimit20ProcessVsEmpty: ratio(history.empty, history.full),
      historyLimit20ProcessVs20Runs: ratio(history.twenty, history.full),
    };
  } finally {
    for (const dir of [...Object.values(projects), ...Object.values(finishDirs)]) rmSync(dir, { recursive: true, force: true });
  }
}

type LedgerResult = Awaited<ReturnType<typeof benchLedger>>;

function ledgerTable(r: LedgerResult): string {
  const row = (label: string, m: LedgerResult['finishOneRun'], target = '') => [label, ms(m.baselineMs), ms(m.at10kMs), `**${m.ratio}**`, target];
  return markdownTable(['Measure', 'Empty (or 20 runs)', '10,000 runs', 'Ratio', 'Target'], [
    row('finish one run, in process', r.finishOneRun, '≤ 1.2'),
    row('`weir history --limit 20`, whole process, vs empty', r.historyLimit20ProcessVsEmpty, '≤ 1.2'),
    row('`weir history --limit 20`, whole process, vs 20 runs', r.historyLimit20ProcessVs20Runs),
    row('`listRuns({ limit: 20 })`, in process, vs 20 runs', r.listRunsLimit20Vs20Runs),
    row('`listRuns({ limit: 20 })`, in process, vs empty', r.listRunsLimit20VsEmpty),
  ]);
}

export const ledger: Suite<LedgerResult> = { run: () => benchLedger(), table: ledgerTable };
