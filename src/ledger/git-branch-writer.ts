/**
 * Recording a finished run on the ledger branch: one commit (the run file, and the state snapshot
 * when the run committed state) pushed with a plain, never forced, push, which the remote accepts
 * only as a fast-forward of the tip we built on: a compare-and-swap. When another writer won, we
 * fetch the new tip, build the commit again on it (state re-derived with `applyCommit` from the new
 * tip's snapshot, never text-merged) and retry after a jittered, bounded backoff.
 *
 * Idempotent by run id: the run file is looked for on the freshly fetched tip before anything is
 * built, so a retry after a push that landed but whose reply was lost adds nothing.
 */
import { computeDelay, type BackoffSettings } from '../policies/backoff.ts';
import { applyCommit, type StateCommit } from '../model/state.ts';
import type { GitClient, TreeFile } from './git-client.ts';
import { activePath, controlPath, assertLedgerMarker, commitMessage, LEDGER_AUTHOR, MARKER_PATH, markerContent, parseState, runPath, stateContent, statePath } from './git-branch-layout.ts';
import { LedgerPushConflictError } from './git-errors.ts';
import type { PipelineControl } from './ledger-store.ts';
import { FLAGS_DIR, flagId, flagPath, type FlagWrite } from './flags.ts';
import type { RunRecord } from './run-record.ts';

/**
 * 30 attempts, 50 ms doubling to a 3 s cap, equal jitter: at most about 75 s of waiting. Each
 * round one writer wins, and the jitter spreads the losers apart, so a dozen writers finishing in
 * the same second on a slow runner all get through (measured: 9 processes on 2 busy cores).
 */
export const PUSH_BACKOFF: BackoffSettings = { kind: 'exponential', initialDelayMs: 50, factor: 2, maxDelayMs: 3000, jitter: 'equal' };
export const PUSH_ATTEMPTS = 30;

export interface GitWriterHooks {
  /** Test hook: called with the attempt number after the commit is built, before it is pushed. */
  beforePush?(attempt: number): void | Promise<void>;
  /** Test hook: called after a push landed, before anything else (throw to lose the reply). */
  afterPush?(commit: string): void | Promise<void>;
}

export interface GitWriterOptions {
  branch: string;
  remote: string;
  /** Where the fetched tip is kept (`refs/remotes/<remote>/<branch>`). */
  trackingRef: string;
  /** Default `setTimeout`; tests pass one that resolves at once. */
  sleep?: (ms: number) => Promise<void>;
  /** Default `Math.random`. */
  random?: () => number;
  /** Default PUSH_ATTEMPTS. */
  maxAttempts?: number;
  hooks?: GitWriterHooks;
}

interface Change {
  files: TreeFile[];
  remove?: string[];
  message: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class GitBranchWriter {
  readonly #git: GitClient;
  readonly #options: GitWriterOptions;

  constructor(git: GitClient, options: GitWriterOptions) {
    this.#git = git;
    this.#options = options;
  }

  /**
   * Records a finished run (its file, the state it moves to) and drops its active record from the
   * branch. True when this call recorded it; false when the branch already had it.
   */
  record(record: RunRecord, commit?: StateCommit): Promise<boolean> {
    const committed = record.status === 'succeeded' && commit ? commit : undefined;
    const { branch } = this.#options;
    return this.#commitChange(record.runId, async (tip) => {
      // One cat-file for the marker, the run file and the state: a short window between fetch and push.
      const [marker, run, state] = tip ? await this.#git.readFiles(tip, [MARKER_PATH, runPath(record), statePath(record.pipeline)]) : [];
      if (tip) assertLedgerMarker(branch, marker);
      if (run !== undefined) return undefined;
      const files: TreeFile[] = [{ path: runPath(record), content: JSON.stringify({ ...record, commit: committed }) }];
      if (!tip) files.push({ path: MARKER_PATH, content: markerContent() });
      if (committed) {
        const next = applyCommit(parseState(branch, record.pipeline, state), committed, record.runId, record.finishedAt ?? record.startedAt);
        files.push({ path: statePath(record.pipeline), content: stateContent(next) });
      }
      return { files, remove: [activePath(record.pipeline, record.runId)], message: commitMessage(record) };
    });
  }

  /**
   * Puts a CI run's active record on the branch, once, so the next job's recovery can close it if
   * this job is killed before it records the run. False when the branch already has it or its finish.
   */
  publishActive(record: RunRecord): Promise<boolean> {
    const path = activePath(record.pipeline, record.runId);
    return this.#commitChange(record.runId, async (tip) => {
      const [marker, run, active] = tip ? await this.#git.readFiles(tip, [MARKER_PATH, runPath(record), path]) : [];
      if (tip) assertLedgerMarker(this.#options.branch, marker);
      if (run !== undefined || active !== undefined) return undefined;
      const files: TreeFile[] = [{ path, content: JSON.stringify(record) }];
      if (!tip) files.push({ path: MARKER_PATH, content: markerContent() });
      return { files, message: `weir: ${record.pipeline} run ${record.runId} started [skip ci]\n` };
    });
  }

  // Pause control (catch-up issue) ↓
  /** Commits a pipeline's pause state (`<pipeline>/control.json`) with the same compare-and-swap as runs. */
  writeControl(pipeline: string, control: PipelineControl): Promise<boolean> {
    return this.#commitChange(`${pipeline} control`, async (tip) => {
      const [marker] = tip ? await this.#git.readFiles(tip, [MARKER_PATH]) : [];
      if (tip) assertLedgerMarker(this.#options.branch, marker);
      const files: TreeFile[] = [{ path: controlPath(pipeline), content: `${JSON.stringify(control, null, 2)}\n` }];
      if (!tip) files.push({ path: MARKER_PATH, content: markerContent() });
      const verb = control.paused ? 'paused' : 'unpaused';
      return { files, message: `weir: ${pipeline} ${verb} by ${control.by} [skip ci]\n` };
    });
  }

  // Gates (gates issue) ↓
  /** Commits flag changes (`.flags/…`, one file per flag) built on the fresh tip: a lost race rebuilds, so no update is lost. */
  writeFlags(writes: readonly FlagWrite[]): Promise<boolean> {
    return this.#commitChange('flags', async (tip) => {
      const [marker] = tip ? await this.#git.readFiles(tip, [MARKER_PATH]) : [];
      if (tip) assertLedgerMarker(this.#options.branch, marker);
      const files: TreeFile[] = [];
      const remove: string[] = [];
      for (const write of writes) {
        const path = `${FLAGS_DIR}/${flagPath(write)}`;
        if (write.unset) remove.push(path);
        else {
          const { unset: _unset, ...flag } = write;
          files.push({ path, content: `${JSON.stringify(flag, null, 2)}\n` });
        }
      }
      if (!tip) files.push({ path: MARKER_PATH, content: markerContent() });
      const names = writes.map((w) => flagId(w)).join(', ');
      return { files, remove, message: `weir: flags ${names} [skip ci]\n` };
    });
  }

  /** Puts (or replaces) a parked run's record on the branch, so a trigger on another machine finds it `waiting`. */
  publishParked(record: RunRecord): Promise<boolean> {
    const path = activePath(record.pipeline, record.runId);
    return this.#commitChange(record.runId, async (tip) => {
      const [marker, run] = tip ? await this.#git.readFiles(tip, [MARKER_PATH, runPath(record)]) : [];
      if (tip) assertLedgerMarker(this.#options.branch, marker);
      if (run !== undefined) return undefined;
      const files: TreeFile[] = [{ path, content: JSON.stringify(record) }];
      if (!tip) files.push({ path: MARKER_PATH, content: markerContent() });
      return { files, message: `weir: ${record.pipeline} run ${record.runId} parked [skip ci]\n` };
    });
  }

  /** Compare-and-swap loop: `change` builds on the fetched tip; undefined means nothing to write. */
  async #commitChange(runId: string, change: (tip: string | undefined) => Promise<Change | undefined>): Promise<boolean> {
    const attempts = this.#options.maxAttempts ?? PUSH_ATTEMPTS;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await this.#attempt(change, attempt);
      if (outcome !== 'retry') return outcome === 'written';
      if (attempt < attempts) await (this.#options.sleep ?? defaultSleep)(computeDelay(PUSH_BACKOFF, attempt, this.#options.random ?? Math.random));
    }
    throw new LedgerPushConflictError(this.#options.branch, runId, attempts);
  }

  /** One try: fetch the tip, build on it, push. `retry` when another writer won the race. */
  async #attempt(change: (tip: string | undefined) => Promise<Change | undefined>, attempt: number): Promise<'written' | 'nothing' | 'retry'> {
    const { branch, remote, trackingRef } = this.#options;
    const fetched = await this.#git.fetchBranch(remote, branch, trackingRef);
    if (!fetched.fetched && fetched.reason === 'ref-locked') return 'retry';
    const tip = fetched.fetched ? fetched.tip : undefined;
    const planned = await change(tip);
    if (!planned) return 'nothing';
    const next = await this.#git.createCommit({ parent: tip, ...planned, author: LEDGER_AUTHOR });
    await this.#options.hooks?.beforePush?.(attempt);
    if ((await this.#git.push(remote, next, branch)) === 'rejected') return 'retry';
    await this.#options.hooks?.afterPush?.(next);
    // Reads of this clone see the write at once; a concurrent fetch that got further wins.
    await this.#git.updateRef(trackingRef, next, tip);
    return 'written';
  }
}
