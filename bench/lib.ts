/** Shared helpers for the benchmarks: temp projects, timing whole processes, medians. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEIR = join(REPO, 'bin', 'weir.js');
export const NODE = process.execPath;
/** Figures of the last `npm run bench` (git-ignored), and the recorded ones docs/benchmarks.md quotes. */
export const LATEST_RESULTS = join(REPO, 'bench', '.results', 'latest.json');
export const RECORDED_RESULTS = join(REPO, 'bench', 'results.json');

export function readResults(path: string): Record<string, unknown> {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
}

/** Where and when the figures were taken: part of every results file. */
export function machine() {
  const duckdb = JSON.parse(readFileSync(join(REPO, 'node_modules', '@duckdb', 'node-api', 'package.json'), 'utf8')).version as string;
  return {
    date: new Date().toISOString(),
    node: process.version,
    duckdb,
    cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

/** The raw-DuckDB baseline script (plain JavaScript, see its header). */
export const DIRECT_SQL = join(REPO, 'bench', 'direct-sql.mjs');

/**
 * One benchmark: `run` measures and returns plain data (kept in the results file); `table` renders
 * that data as the Markdown table docs/benchmarks.md quotes verbatim (a test compares them).
 */
export interface Suite<Result> {
  run: () => Result | Promise<Result>;
  table: (result: Result) => string;
}

/** A Markdown table from a header row and data rows. */
export function markdownTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Milliseconds as the docs print them: whole ms from 100 up (with thousands separators), one decimal from 10, two below. */
export function ms(value: number): string {
  if (value >= 100) return `${Math.round(value).toLocaleString('en-US')} ms`;
  return value >= 10 ? `${round(value, 1)} ms` : `${value.toFixed(2)} ms`;
}

/** Temp projects not yet removed: removed on Ctrl-C too, where the suites' `finally` blocks do not run. */
const liveProjects = new Set<string>();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const dir of liveProjects) rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  });
}

/** A temp folder holding `files`; remove it with `removeProject`. */
export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
  liveProjects.add(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Runs a command to completion and returns its wall time in ms; throws if it fails. */
export function timeProcess(args: string[], cwd: string): number {
  const started = process.hrtime.bigint();
  // stdout is discarded: it can be megabytes (plan --json of 10,000 stages) and is not what is timed.
  const result = spawnSync(NODE, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}:\n${result.stderr.slice(0, 2000)}`);
  return ms;
}

export function removeProject(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  liveProjects.delete(dir);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median of `runs` timings after `warmup` discarded ones (disk cache, module cache). */
export function measure(runs: number, warmup: number, once: () => number): { median: number; samples: number[] } {
  for (let i = 0; i < warmup; i++) once();
  const samples = Array.from({ length: runs }, once);
  return { median: median(samples), samples };
}

/**
 * Medians of several measurements taken in turns (a, b, c, a, b, c, …) after `warmup` rounds, so
 * that load from other processes drifting during the run hits weir and its baselines alike.
 */
export function measureInTurns<K extends string>(runs: number, warmup: number, measurements: Record<K, () => number>): Record<K, number> {
  const names = Object.keys(measurements) as K[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < warmup + runs; round++) {
    for (const name of names) {
      const ms = measurements[name]();
      if (round >= warmup) samples[name].push(ms);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(samples[name])])) as Record<K, number>;
}

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
