/** Shared helpers for the benchmarks: temp projects, timing whole processes, medians. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const WEIR = join(REPO, 'bin', 'weir.js');
export const NODE = process.execPath;

export function tempProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-'));
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

export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
