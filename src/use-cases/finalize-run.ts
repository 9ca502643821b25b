/**
 * `finalize`: the last job of a run split into segments. Reads every part the segment jobs handed
 * on (a missing one is a segment that failed to start, was skipped or lost its runner), joins them
 * into one run record (join-parts.ts), writes its events into a run folder, sends the run's
 * notifications, and records it in the ledger once, with the state commits of every stage that
 * made one. Finalizing a run already recorded changes nothing, unless it failed and some of its
 * segments were re-run since (GitHub's "re-run failed jobs"): that is recorded as a new attempt of
 * the run, reusing the parts that had succeeded.
 */
import { foldEvents, type RunRecord } from '../ledger/run-record.ts';
import type { RunEventListener } from '../model/events.ts';

import { createPlan } from '../planner/plan.ts';
import { splitSegments } from '../planner/segments.ts';
import type { StageResult } from '../stages/stage-kind.ts';
import type { ChannelConfigs } from '../notify/channel-config.ts';
import type { HandoffStore, ReceivedPart } from './handoff.ts';
import { joinParts, runSlaBreach, type RunAttempt } from './join-parts.ts';
import { findAttempts } from './retry-run.ts';
import { newRunId } from '../ledger/run-id.ts';
import { notifyAfterRun } from './notify-run.ts';
import type { RunDeps } from './run-deps.ts';
import { acquireRunLease } from './run-lease.ts';
import { recordRun, recoverAbandonedRuns, type RunRequest, type RunSummary } from './run-pipeline.ts';
import { readRunContext } from './run-segment.ts';

export interface FinalizeRequest extends Pick<RunRequest, 'pipeline' | 'root' | 'kinds' | 'policies' | 'signal' | 'warn'> {
  handoff: HandoffStore;
  /** The run to finalize; default: the only run in the hand-off. */
  runId?: string;
  channels?: ChannelConfigs;
  listeners?: readonly RunEventListener[];
  /** Wait for another run of the pipeline to finish recording instead of failing with run_conflict. */
  wait?: boolean;
}

export interface FinalizeResult extends RunSummary {
  /** The run was already in the ledger: nothing was written. */
  alreadyRecorded: boolean;
  /** Parts that never reported, by name (`segment` or `segment.shard-i`). */
  missing: string[];
}

export async function finalizeRun(request: FinalizeRequest, deps: RunDeps): Promise<FinalizeResult> {
  const context = await readRunContext(request.handoff, request, request.runId);
  const spec = request.pipeline.spec;
  const plan = createPlan(spec, { policies: request.policies, kinds: request.kinds });
  const segments = splitSegments(plan);
  const parts = new Map<string, (ReceivedPart | undefined)[]>();
  const missing: string[] = [];
  for (const segment of segments) {
    const shards = segment.shards ? Array.from({ length: segment.shards.count }, (_, i) => i + 1) : [undefined];
    const received: (ReceivedPart | undefined)[] = [];
    for (const shard of shards) {
      const part = await request.handoff.getPart(context.runId, { segment: segment.id, shard });
      if (!part) missing.push(shard === undefined ? segment.id : `${segment.id}.shard-${shard}`);
      received.push(part);
    }
    parts.set(segment.id, received);
  }
  // Recorded before: unchanged parts write nothing; a failed run whose failed segments were re-run since is a new attempt.
  let attempt: RunAttempt | undefined;
  const existing = await deps.ledger.getRun(context.runId);
  if (existing && existing.status !== 'running') {
    const { firstRunId, attempts } = (await findAttempts(deps.ledger, context.runId))!;
    const latest = attempts.at(-1)!;
    const done = attempts.find((r) => r.status === 'succeeded');
    if (done || samePartsAs(latest, parts)) return { runId: (done ?? latest).runId, runDir: '', record: done ?? latest, plan, alreadyRecorded: true, missing };
    attempt = { runId: newRunId(deps.clock.now()), retryOf: firstRunId, attempt: Math.max(...attempts.map((r) => r.attempt ?? 1)) + 1 };
  }
  const runId = attempt?.runId ?? context.runId;
  const events = joinParts(context, plan, segments, parts, new Date(deps.clock.now()).toISOString(), attempt);
  const breach = runSlaBreach(spec.sla, context, events.at(-1)!);
  if (breach) events.splice(events.length - 1, 0, breach);

  await recoverAbandonedRuns(deps);
  const held = await acquireRunLease(deps, { pipeline: spec.name, runId, maxActive: spec.max_active_runs ?? 1, wait: request.wait ?? false, signal: request.signal });
  try {
    const workspace = await deps.workspaces.create(spec.name, runId);
    for (const event of events) {
      workspace.appendEvent(event);
      for (const listener of request.listeners ?? []) listener(event);
    }
    const record: RunRecord = foldEvents(events)!;
    await workspace.close();
    const warn = request.warn ?? ((message: string) => process.emitWarning(message));
    await notifyAfterRun(record, { spec, channels: request.channels ?? {}, policies: request.policies, root: request.root, workspace, listeners: request.listeners ?? [], signal: request.signal, warn }, deps);
    deps.checkpoint?.('run-executed');
    const results: [string, StageResult][] = [];
    for (const received of parts.values()) for (const part of received) for (const [stage, commit] of Object.entries(part?.commits ?? {})) results.push([stage, { commit }]);
    await recordRun(deps, record, results, held.owner);
    return { runId, runDir: workspace.dir, record, plan, alreadyRecorded: false, missing };
  } finally {
    await held.release();
  }
}

/** Whether the parts are those an earlier record of the run was made from (nothing re-ran since). */
function samePartsAs(record: RunRecord, parts: ReadonlyMap<string, readonly (ReceivedPart | undefined)[]>): boolean {
  const key = (segment: string, shard: number | undefined, status: string, finishedAt: string | undefined) => `${segment}#${shard ?? 0}:${status}@${finishedAt ?? ''}`;
  const before = new Set((record.segments ?? []).map((s) => key(s.segment, s.shard, s.status, s.finishedAt)));
  const now = [...parts].flatMap(([segment, received]) => received.map((part, i) => key(segment, part?.report.shard ?? (received.length > 1 ? i + 1 : undefined), part?.report.status ?? 'missing', part?.report.finishedAt)));
  return now.length === before.size && now.every((k) => before.has(k));
}

