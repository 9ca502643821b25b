/**
 * The ledger on a git branch (default `weir-ledger`, an orphan branch weir creates; never the
 * default branch). Finished runs and state live on the branch, one commit per finished run, pushed
 * as a compare-and-swap (see git-branch-writer.ts). Runs in progress and leases stay in a local
 * folder (an FsLedgerStore layout under `.git/weir/`): they change every few seconds, belong to
 * one machine, and on GitHub the workflow's `concurrency` group already serialises runs (README).
 */
import { join } from 'node:path';
import type { PipelineState, StateCommit } from '../model/state.ts';
import { emptyPipelineState } from '../model/state.ts';
import { listIfExists } from './durable-file.ts';
import { AmbiguousRunIdError } from './errors.ts';
import { FsLeases } from './fs-leases.ts';
import { FsRunFiles } from './fs-run-files.ts';
import { controlPath, DEFAULT_LEDGER_BRANCH, parseBranchJson, runIdOfPath, runPath } from './git-branch-layout.ts';
import { GitBranchReader } from './git-branch-reader.ts';
import { GitBranchWriter, type GitWriterOptions } from './git-branch-writer.ts';
import type { GitClient } from './git-client.ts';
import type { PipelineControl, Lease, LeaseOptions, LeaseOwner, LeaseResult, LedgerStore, RecoveredRun, RecoverOptions, RenewResult, RunQuery } from './ledger-store.ts';
import { localOwnerLiveness, type OwnerLiveness } from './owner-liveness.ts';
import { recoverActiveRun } from './recover-run.ts';
import { presentActive, selectRuns } from './run-query.ts';
import type { RunRecord } from './run-record.ts';
import { decodeFlagKey, FLAGS_DIR, sortFlags, type Flag, type FlagWrite } from './flags.ts';

export interface GitLedgerOptions extends Omit<GitWriterOptions, 'branch' | 'remote' | 'trackingRef'> {
  /** Default `weir-ledger`. */
  branch?: string;
  /** Default `origin`. */
  remote?: string;
  /** Runs in progress and leases. Default `<git dir>/weir/<branch>`. */
  localDir?: string;
  /** Decides whether an owner is gone. Default: this machine, `Date.now`, 60 s heartbeat TTL. */
  liveness?: OwnerLiveness;
  /** The CI run this process belongs to (`GITHUB_RUN_ID`): its own runs on the branch are never recovered. */
  ciRunId?: string;
}

interface LocalFiles {
  runs: FsRunFiles;
  leases: FsLeases;
}

export class GitLedgerStore implements LedgerStore {
  readonly branch: string;
  readonly remote: string;
  readonly localDir: string;
  readonly #git: GitClient;
  readonly #liveness: OwnerLiveness;
  readonly #reader: GitBranchReader;
  readonly #writer: GitBranchWriter;
  readonly #trackingRef: string;
  readonly #local = new Map<string, LocalFiles>();
  readonly #ciRunId: string | undefined;
  /** CI runs whose active record this process has put on the branch already. */
  readonly #published = new Set<string>();

  constructor(git: GitClient, options: GitLedgerOptions = {}) {
    this.#git = git;
    this.branch = options.branch ?? DEFAULT_LEDGER_BRANCH;
    this.remote = options.remote ?? 'origin';
    this.localDir = options.localDir ?? join(git.gitDir, 'weir', this.branch);
    this.#liveness = options.liveness ?? localOwnerLiveness();
    this.#ciRunId = options.ciRunId;
    this.#trackingRef = `refs/remotes/${this.remote}/${this.branch}`;
    this.#reader = new GitBranchReader(git, this.branch);
    this.#writer = new GitBranchWriter(git, { ...options, branch: this.branch, remote: this.remote, trackingRef: this.#trackingRef });
  }

  /** Fetches the branch, so reads see what other machines recorded. False when it does not exist yet. */
  async refresh(): Promise<boolean> {
    return (await this.#git.fetchBranch(this.remote, this.branch, this.#trackingRef)).fetched;
  }

  /** The commit reads look at: the fetched branch, else a local branch of that name. */
  async #tip(): Promise<string | undefined> {
    return (await this.#git.resolveCommit(this.#trackingRef)) ?? (await this.#git.resolveCommit(`refs/heads/${this.branch}`));
  }

  #files(pipeline: string): LocalFiles {
    let files = this.#local.get(pipeline);
    if (!files) {
      const dir = join(this.localDir, pipeline);
      files = { runs: new FsRunFiles(dir), leases: new FsLeases(dir, this.#liveness) };
      this.#local.set(pipeline, files);
    }
    return files;
  }

  async #isFinished(tip: string | undefined, record: RunRecord): Promise<boolean> {
    return tip !== undefined && (await this.#reader.hasFile(tip, runPath(record)));
  }

  // Pause control (catch-up issue) ↓
  async readControl(pipeline: string): Promise<PipelineControl | undefined> {
    const tip = await this.#tip();
    const [text] = tip ? await this.#git.readFiles(tip, [controlPath(pipeline)]) : [];
    return text === undefined ? undefined : parseBranchJson<PipelineControl>(this.branch, controlPath(pipeline), text);
  }

  async writeControl(pipeline: string, control: PipelineControl): Promise<void> {
    await this.#writer.writeControl(pipeline, control);
  }

  // Flags (gates issue) ↓ on the branch (`.flags/<scope>/…`), committed like control.json.
  async readFlags(scope: string): Promise<Flag[]> {
    const tip = await this.#tip();
    if (!tip) return [];
    const paths = (await this.#git.listFiles(tip, `${FLAGS_DIR}/${scope}`)).filter((p) => p.endsWith('.json'));
    const texts = await this.#git.readFiles(tip, paths);
    const flags = texts.flatMap((text, i) => {
      if (text === undefined) return [];
      const flag = parseBranchJson<Flag>(this.branch, paths[i], text);
      const rest = paths[i].slice(`${FLAGS_DIR}/${scope}/`.length).split('/');
      return [rest.length === 2 ? { ...flag, key: flag.key ?? decodeFlagKey(rest[1].slice(0, -'.json'.length)) } : flag];
    });
    return sortFlags(flags);
  }

  async setFlags(writes: readonly FlagWrite[]): Promise<void> {
    if (writes.length) await this.#writer.writeFlags(writes);
  }

  async readState(pipeline: string): Promise<PipelineState> {
    const tip = await this.#tip();
    return tip ? this.#reader.readState(tip, pipeline) : emptyPipelineState();
  }

  async saveActive(record: RunRecord): Promise<void> {
    // A trailing save that lands after the finish would resurrect the run as active.
    if (await this.#isFinished(await this.#tip(), record)) return;
    await this.#files(record.pipeline).runs.saveActive(record);
    // Gates: a parked run must be found by the next trigger, on whatever machine it runs.
    if (record.status === 'waiting') {
      await this.#writer.publishParked(record);
      return;
    }
    // A CI job may be killed without a word: its run goes on the branch once, for the next job to close.
    if (record.owner?.ciRunId && !this.#published.has(record.runId)) {
      await this.#writer.publishActive(record);
      this.#published.add(record.runId);
    }
  }

  async finishRun(record: RunRecord, commit?: StateCommit): Promise<void> {
    await this.#finish(record, commit);
  }

  async #finish(record: RunRecord, commit?: StateCommit): Promise<boolean> {
    const recorded = await this.#writer.record(record, commit);
    await this.#files(record.pipeline).runs.removeActive(record.runId);
    return recorded;
  }

  async pipelines(): Promise<string[]> {
    const tip = await this.#tip();
    const onBranch = tip ? await this.#reader.pipelines(tip) : [];
    const local = (await listIfExists(this.localDir)).filter((name) => !name.startsWith('.'));
    return [...new Set([...onBranch, ...local])].sort();
  }

  /** This machine's runs in progress, then the CI runs on the branch (fresher local copy first). */
  async #activeRecords(tip: string | undefined, pipeline: string): Promise<RunRecord[]> {
    const files = this.#files(pipeline);
    const leases = await files.leases.list();
    const records: RunRecord[] = [];
    for (const runId of await files.runs.activeIds()) {
      const record = await files.runs.readActive(runId);
      if (record && !(await this.#isFinished(tip, record))) records.push(presentActive(record, leases, this.#liveness));
    }
    const seen = new Set(records.map((r) => r.runId));
    for (const record of tip ? await this.#reader.activeRuns(tip, pipeline) : []) {
      if (!seen.has(record.runId) && !(await this.#isFinished(tip, record))) records.push(presentActive(record, leases, this.#liveness));
    }
    return records;
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const tip = await this.#tip();
    const pipelines = query.pipeline ? [query.pipeline] : await this.pipelines();
    const perPipeline = await Promise.all(
      pipelines.map(async (p) => [...(tip && !query.unfinished ? await this.#reader.finishedRuns(tip, p, query) : []), ...(await this.#activeRecords(tip, p))]),
    );
    return selectRuns(perPipeline.flat(), query);
  }

  async getRun(idOrPrefix: string): Promise<RunRecord | undefined> {
    const tip = await this.#tip();
    const pipelines = await this.pipelines();
    const paths = tip ? await this.#reader.runPathsMatching(tip, pipelines, idOrPrefix) : [];
    const exactPath = paths.find((p) => runIdOfPath(p) === idOrPrefix);
    if (tip && exactPath) return (await this.#reader.readRuns(tip, [exactPath]))[0];
    const ids = new Set(paths.map((p) => runIdOfPath(p)!));
    const active: RunRecord[] = [];
    for (const pipeline of pipelines) {
      for (const record of await this.#activeRecords(tip, pipeline)) if (record.runId.startsWith(idOrPrefix) && !ids.has(record.runId)) active.push(record);
    }
    const exactActive = active.find((r) => r.runId === idOrPrefix);
    if (exactActive) return exactActive;
    const all = [...ids, ...active.map((r) => r.runId)];
    if (all.length > 1) throw new AmbiguousRunIdError(idOrPrefix, all.sort().reverse());
    if (tip && paths.length === 1) return (await this.#reader.readRuns(tip, paths))[0];
    return active[0];
  }

  acquireLease(pipeline: string, owner: LeaseOwner, options: LeaseOptions = {}): Promise<LeaseResult> {
    return this.#files(pipeline).leases.acquire(pipeline, owner, options.maxActive ?? 1);
  }

  renewLease(lease: Lease): Promise<RenewResult> {
    return this.#files(lease.pipeline).leases.renew(lease);
  }

  releaseLease(lease: Lease): Promise<void> {
    return this.#files(lease.pipeline).leases.release(lease);
  }

  listLeases(pipeline: string): Promise<LeaseOwner[]> {
    return this.#files(pipeline).leases.list();
  }

  /**
   * Closes runs whose owner is gone, recording them on the branch: this machine's (dead pid or
   * silent past the TTL), and CI runs on the branch that belong to another CI run than ours and
   * are silent past the TTL (with a workflow `concurrency` group, their job has ended).
   */
  async recover(options: RecoverOptions): Promise<RecoveredRun[]> {
    const recovered: RecoveredRun[] = [];
    for (const pipeline of (await listIfExists(this.localDir)).filter((name) => !name.startsWith('.'))) {
      const files = this.#files(pipeline);
      const leases = await files.leases.list();
      for (const runId of await files.runs.activeIds()) {
        const active = await files.runs.readActive(runId);
        if (!active) continue;
        const result = await this.#recoverOne(active, leases, options);
        if (result) recovered.push(result);
        else if (await this.#isFinished(await this.#tip(), active)) await files.runs.removeActive(runId);
      }
      await files.leases.releaseGone();
    }
    if (await this.refresh()) recovered.push(...(await this.#recoverCiRuns(options)));
    return recovered;
  }

  async #recoverCiRuns(options: RecoverOptions): Promise<RecoveredRun[]> {
    const recovered: RecoveredRun[] = [];
    const tip = await this.#tip();
    for (const pipeline of tip ? await this.#reader.pipelines(tip) : []) {
      for (const active of await this.#reader.activeRuns(tip!, pipeline)) {
        if (active.owner?.ciRunId === undefined || active.owner.ciRunId === this.#ciRunId) continue;
        const result = await this.#recoverOne(active, [], options);
        if (result) recovered.push(result);
      }
    }
    return recovered;
  }

  #recoverOne(active: RunRecord, leases: LeaseOwner[], options: RecoverOptions): Promise<RecoveredRun | undefined> {
    return recoverActiveRun(active, leases, {
      liveness: this.#liveness,
      options,
      pendingCommit: async () => undefined,
      finish: (record, commit) => this.#finish(record, commit),
      dropPendingCommit: async () => {},
      setFlags: (writes) => this.setFlags(writes),
    });
  }
}
