/** Records, commits and a controllable owner liveness for the ledger tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type { LeaseOwner } from '../../src/ledger/ledger-store.ts';
import type { OwnerLiveness } from '../../src/ledger/owner-liveness.ts';
import { foldEvents, type RunRecord } from '../../src/ledger/run-record.ts';
import type { RunEvent, RunStatus } from '../../src/model/events.ts';

export const HOST = 'test-host';

/** Liveness the test drives: pids in `alive` live, `now` moves only when the test says. */
export interface FakeLiveness extends OwnerLiveness {
  alive: Set<number>;
  nowMs: number;
}

export function fakeLiveness(nowIso = '2026-11-15T12:00:00.000Z'): FakeLiveness {
  const liveness: FakeLiveness = {
    host: HOST,
    ttlMs: 60_000,
    alive: new Set(),
    nowMs: Date.parse(nowIso),
    now: () => liveness.nowMs,
    isPidAlive: (pid) => liveness.alive.has(pid),
  };
  return liveness;
}

export function owner(runId: string, pid: number, heartbeatAt = '2026-11-15T12:00:00.000Z', extra: Partial<LeaseOwner> = {}): LeaseOwner {
  return { runId, host: HOST, pid, startedAt: heartbeatAt, heartbeatAt, ...extra };
}

export interface RunShape {
  pipeline?: string;
  startedAt?: string;
  status?: Exclude<RunStatus, 'running' | 'waiting'>;
  interval?: { start: string; end: string };
}

/** The events of a run with stages a and b; `upTo` cuts it short (a run that died). */
export function runEvents(runId: string, shape: RunShape = {}, upTo?: number): RunEvent[] {
  const at = shape.startedAt ?? '2026-11-02T06:00:00.000Z';
  const later = new Date(Date.parse(at) + 1000).toISOString();
  const interval = shape.interval ?? { start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' };
  const status = shape.status ?? 'succeeded';
  const events: RunEvent[] = [
    { type: 'run.started', runId, at, pipeline: shape.pipeline ?? 'p', params: {}, interval, trigger: 'manual', stages: ['a', 'b'] },
    { type: 'stage.started', runId, at, stage: 'a', attempt: 1 },
    { type: 'stage.succeeded', runId, at: later, stage: 'a', attempt: 1, durationMs: 1000, rows: 3, table: 'a' },
    { type: 'stage.started', runId, at: later, stage: 'b', attempt: 1 },
    status === 'failed'
      ? { type: 'stage.failed', runId, at: later, stage: 'b', attempt: 1, durationMs: 1, error: { code: 'stage_failed', name: 'StageFailedError', message: 'boom' } }
      : { type: 'stage.succeeded', runId, at: later, stage: 'b', attempt: 1, durationMs: 1 },
    { type: 'run.finished', runId, at: later, status, durationMs: 1000 },
  ];
  return upTo === undefined ? events : events.slice(0, upTo);
}

export function finishedRun(runId: string, shape: RunShape = {}): RunRecord {
  return foldEvents(runEvents(runId, shape))!;
}

/** A run still going: started, stage a running. */
export function activeRun(runId: string, runOwner: LeaseOwner | undefined, shape: RunShape = {}): RunRecord {
  return { ...foldEvents(runEvents(runId, shape, 2))!, owner: runOwner };
}

export function files(...hashes: string[]) {
  return hashes.map((hash) => ({ hash, path: `in/${hash}.csv`, bytes: hash.length }));
}

/** A temp folder removed when the test finishes. */
export async function tempDir(prefix = 'weir-ledger-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
