/**
 * Ledger cost as history grows: finishing one run, and listing the newest 20, with 10,000 runs
 * already in the month vs an empty ledger (goal ≤ 1.2× each). Measured in process (the store
 * alone, a fresh store per sample as a CLI process would open) and, for listing, as the whole
 * `weir history --limit 20` process.
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
import { median, round, tempProject, timeProcess, WEIR } from './lib.ts';

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
  // 10,000 runs in one month: one every 4 minutes, ~347 a day.
  const spacingMs = Math.floor((28 * 86_400_000) / runs);
  for (let i = 0; i < runs; i++) {
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

/**
 * Samples alternate between the two ledgers, so drift on a shared machine (other processes, disk
 * cache) hits both sides alike; a fresh store per sample, as each CLI process opens its own.
 */
async function measurePair(emptyDir: string, fullDir: string, samples: number) {
  const times = { finishEmpty: [] as number[], finishFull: [] as number[], listEmpty: [] as number[], listFull: [] as number[] };
  for (let i = -1; i < samples; i++) {
    // Runs finished by the benchmark start after the seeded ones, on the last seeded day.
    const record = run('daily', MONTH_START + 28 * 86_400_000 - 3_600_000 + (i + 1) * 1000, 'bench0');
    const commit = { watermarks: { cursor: String(HISTORY + i) }, processedFiles: [{ hash: `h${i}`, path: `in/${i}.csv`, bytes: 1 }] };
    const finishEmpty = await elapsedMs(() => new FsLedgerStore(emptyDir).finishRun(record, commit));
    const finishFull = await elapsedMs(() => new FsLedgerStore(fullDir).finishRun(record, commit));
    const listEmpty = await elapsedMs(() => new FsLedgerStore(emptyDir).listRuns({ limit: 20 }));
    const listFull = await elapsedMs(() => new FsLedgerStore(fullDir).listRuns({ limit: 20 }));
    if (i < 0) continue; // warm-up
    Object.entries({ finishEmpty, finishFull, listEmpty, listFull }).forEach(([k, v]) => times[k as keyof typeof times].push(v));
  }
  return Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)])) as Record<keyof typeof times, number>;
}

function historyPair(empty: string, full: string, samples: number) {
  const args = [WEIR, 'history', '--limit', '20', '--json'];
  timeProcess(args, full);
  const emptyMs: number[] = [];
  const fullMs: number[] = [];
  for (let i = 0; i < samples; i++) {
    emptyMs.push(timeProcess(args, empty));
    fullMs.push(timeProcess(args, full));
  }
  return { emptyMs: median(emptyMs), fullMs: median(fullMs) };
}

const ratio = (emptyMs: number, fullMs: number) => ({ emptyMs: round(emptyMs, 2), at10kMs: round(fullMs, 2), ratio: round(fullMs / emptyMs, 2) });

export async function benchLedger(samples = 41) {
  const empty = tempProject({ 'pipelines/.keep': '' });
  const full = tempProject({ 'pipelines/.keep': '' });
  try {
    seedLedger(join(full, '.weir', 'ledger'), HISTORY);
    mkdirSync(join(empty, '.weir', 'ledger'), { recursive: true });
    const t = await measurePair(join(empty, '.weir', 'ledger'), join(full, '.weir', 'ledger'), samples);
    const history = historyPair(empty, full, 11);
    return {
      runsInMonth: HISTORY,
      finishOneRun: ratio(t.finishEmpty, t.finishFull),
      listRunsLimit20: ratio(t.listEmpty, t.listFull),
      historyLimit20Process: ratio(history.emptyMs, history.fullMs),
    };
  } finally {
    rmSync(empty, { recursive: true, force: true });
    rmSync(full, { recursive: true, force: true });
  }
}
