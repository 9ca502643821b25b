/**
 * The local ledger, a folder (`.weir/ledger` by default), one sub-folder per pipeline:
 *
 *   runs/<YYYY-MM>/<run id>.json   finished runs, written once        (fs-run-files.ts)
 *   active/<run id>.json           runs in progress, with their owner
 *   pending/, state.json           state as a fold of committed runs  (fs-pipeline-state.ts)
 *   leases/slot-<i>.json           who may run now                    (fs-leases.ts)
 *
 * No file is ever read-modified-written by two processes: every finished run is its own file, so
 * concurrent writers and crashes lose nothing (see README.md for the crash analysis).
 */
import { join } from 'node:path';
import type { StateCommit } from '../model/state.ts';
import { AmbiguousRunIdError } from './errors.ts';
import { ensureDir, listIfExists, readJsonIfExists, sweepStaleTemps, writeFileDurable } from './durable-file.ts';
import { FsFlags } from './fs-flags.ts';
import type { Flag, FlagWrite } from './flags.ts';
import { FsLeases } from './fs-leases.ts';
import { FsPipelineState } from './fs-pipeline-state.ts';
import { dayOf, FsRunFiles } from './fs-run-files.ts';
import type { LedgerHooks } from './ledger-step.ts';
import type { PipelineControl, Lease, LeaseOptions, LeaseOwner, LeaseResult, LedgerStore, RecoveredRun, RecoverOptions, RenewResult, RunQuery } from './ledger-store.ts';
import { localOwnerLiveness, type OwnerLiveness } from './owner-liveness.ts';
import { recoverActiveRun } from './recover-run.ts';
import { tryParseRunId } from './run-id.ts';
import { presentActive, selectRuns, matchesQuery } from './run-query.ts';
import type { RunRecord } from './run-record.ts';

/** Temp files younger than this may belong to a write in progress; older ones are swept. */
const STALE_TEMP_MS = 60_000;
/** Records read at once when a listing has no limit: parallel enough, without a file-handle storm. */
const READ_BATCH = 64;

export interface FsLedgerOptions {
  /** Decides whether an owner is gone. Default: this machine, `Date.now`, 60 s heartbeat TTL. */
  liveness?: OwnerLiveness;
  /** Test hook called between writes (kill the process at an exact point). */
  hooks?: LedgerHooks;
}

interface PipelineFiles {
  dir: string;
  runs: FsRunFiles;
  state: FsPipelineState;
  leases: FsLeases;
  migrated?: Promise<number>;
}

export class FsLedgerStore implements LedgerStore {
  readonly dir: string;
  readonly #liveness: OwnerLiveness;
  readonly #hooks: LedgerHooks;
  readonly #pipelines = new Map<string, PipelineFiles>();
  readonly #flags: FsFlags;

  constructor(dir: string, options: FsLedgerOptions = {}) {
    this.dir = dir;
    this.#flags = new FsFlags(dir);
    this.#liveness = options.liveness ?? localOwnerLiveness();
    this.#hooks = options.hooks ?? {};
  }

  #files(pipeline: string): PipelineFiles {
    let files = this.#pipelines.get(pipeline);
    if (!files) {
      const dir = join(this.dir, pipeline);
      files = { dir, runs: new FsRunFiles(dir), state: new FsPipelineState(dir, this.#liveness, this.#hooks), leases: new FsLeases(dir, this.#liveness) };
      this.#pipelines.set(pipeline, files);
    }
    return files;
  }

  /** First-format month files are split once per process, before the first write. */
  #migrated(files: PipelineFiles): Promise<number> {
    files.migrated ??= files.runs.migrateV1();
    return files.migrated;
  }

  // Pause control (catch-up issue) ↓
  readControl(pipeline: string): Promise<PipelineControl | undefined> {
    return readJsonIfExists<PipelineControl>(join(this.dir, pipeline, 'control.json'));
  }

  async writeControl(pipeline: string, control: PipelineControl): Promise<void> {
    await ensureDir(join(this.dir, pipeline));
    await writeFileDurable(join(this.dir, pipeline, 'control.json'), `${JSON.stringify(control, null, 2)}\n`);
  }

  // Flags (gates issue) ↓
  readFlags(scope: string): Promise<Flag[]> {
    return this.#flags.read(scope);
  }

  setFlags(writes: readonly FlagWrite[]): Promise<void> {
    return this.#flags.write(writes);
  }

  readState(pipeline: string) {
    return this.#files(pipeline).state.readState();
  }

  async saveActive(record: RunRecord): Promise<void> {
    const { runs } = this.#files(record.pipeline);
    // A trailing save that lands after the finish would resurrect the run as active.
    if (!(await runs.isFinished(dayOf(record), record.runId))) await runs.saveActive(record);
  }

  async finishRun(record: RunRecord, commit?: StateCommit): Promise<void> {
    await this.#finish(record, commit);
  }

  /** True when this call recorded the run; false when it was already recorded. */
  async #finish(record: RunRecord, commit?: StateCommit): Promise<boolean> {
    const files = this.#files(record.pipeline);
    await this.#migrated(files);
    const day = dayOf(record);
    let linked = false;
    if (!(await files.runs.isFinished(day, record.runId))) {
      const committed = record.status === 'succeeded' && commit ? commit : undefined;
      if (committed) {
        await files.state.writeMarker({ runId: record.runId, at: record.finishedAt ?? record.startedAt, day, commit: committed });
        await this.#hooks.afterStep?.('pending-written');
      }
      linked = await files.runs.writeRun({ ...record, commit: committed });
      await this.#hooks.afterStep?.('run-linked');
    }
    await files.state.compact();
    await files.runs.removeActive(record.runId);
    await this.#hooks.afterStep?.('active-removed');
    return linked;
  }

  async pipelines(): Promise<string[]> {
    return (await listIfExists(this.dir)).filter((name) => !name.startsWith('.')).sort();
  }

  async #activeRecords(files: PipelineFiles): Promise<RunRecord[]> {
    const leases = await files.leases.list();
    const records: RunRecord[] = [];
    for (const runId of await files.runs.activeIds()) {
      const record = await files.runs.readActive(runId);
      if (record && !(await files.runs.isFinished(dayOf(record), runId))) records.push(presentActive(record, leases, this.#liveness));
    }
    return records;
  }

  /**
   * Finished records newest first, read until `limit` match (a batch of exactly the number still
   * needed is read in parallel), plus active and first-format ones.
   */
  async #candidates(pipeline: string, query: RunQuery): Promise<RunRecord[]> {
    const files = this.#files(pipeline);
    const found: RunRecord[] = [];
    let matched = 0;
    // Gates: only active and parked records are unfinished; no finished file needs reading.
    days: for await (const day of files.runs.days()) {
      const ids = await files.runs.idsIn(day);
      while (ids.length) {
        const wanted = query.unfinished ? 0 : query.limit === undefined ? READ_BATCH : query.limit - matched;
        if (wanted <= 0) break days;
        const batch = await Promise.all(ids.splice(0, wanted).map((runId) => files.runs.readRun(day, runId)));
        for (const record of batch) {
          if (!record) continue;
          found.push(record);
          if (matchesQuery(record, query)) matched++;
        }
      }
    }
    return [...found, ...(await files.runs.v1Records()), ...(await this.#activeRecords(files))];
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const pipelines = query.pipeline ? [query.pipeline] : await this.pipelines();
    const records = (await Promise.all(pipelines.map((p) => this.#candidates(p, query)))).flat();
    return selectRuns(records, query);
  }

  async getRun(idOrPrefix: string): Promise<RunRecord | undefined> {
    const parsed = tryParseRunId(idOrPrefix);
    const matches = new Map<string, () => Promise<RunRecord | undefined>>();
    for (const pipeline of await this.pipelines()) {
      const files = this.#files(pipeline);
      if (parsed && (await files.runs.isFinished(parsed.day, idOrPrefix))) return files.runs.readRun(parsed.day, idOrPrefix);
      for (const day of await this.#daysMatching(files, idOrPrefix)) {
        for (const runId of await files.runs.idsIn(day)) if (runId.startsWith(idOrPrefix)) matches.set(runId, () => files.runs.readRun(day, runId));
      }
      for (const record of [...(await files.runs.v1Records()), ...(await this.#activeRecords(files))]) {
        if (record.runId.startsWith(idOrPrefix) && !matches.has(record.runId)) matches.set(record.runId, async () => record);
      }
    }
    const exact = matches.get(idOrPrefix);
    if (exact) return exact();
    if (matches.size > 1) throw new AmbiguousRunIdError(idOrPrefix, [...matches.keys()].sort().reverse());
    return [...matches.values()][0]?.();
  }

  /** A prefix that names a month or a day (`202611…`, `20261102…`) only looks in those folders. */
  async #daysMatching(files: PipelineFiles, prefix: string): Promise<string[]> {
    const digits = /^(\d{4})(\d{2})(\d{2})?/.exec(prefix);
    if (digits?.[3]) return [`${digits[1]}-${digits[2]}/${digits[3]}`];
    const days: string[] = [];
    for await (const day of files.runs.days(digits ? [`${digits[1]}-${digits[2]}`] : undefined)) days.push(day);
    return days;
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

  async recover(options: RecoverOptions): Promise<RecoveredRun[]> {
    const recovered: RecoveredRun[] = [];
    for (const pipeline of await this.pipelines()) {
      const files = this.#files(pipeline);
      await this.#sweepTemps(files);
      await this.#migrated(files);
      const leases = await files.leases.list();
      for (const runId of await files.runs.activeIds()) {
        const active = await files.runs.readActive(runId);
        if (!active) continue;
        if (await files.runs.isFinished(dayOf(active), runId)) {
          await files.runs.removeActive(runId);
          continue;
        }
        const result = await recoverActiveRun(active, leases, {
          liveness: this.#liveness,
          options,
          pendingCommit: async () => (await files.state.readMarker(runId))?.commit,
          finish: (record, commit) => this.#finish(record, commit),
          dropPendingCommit: () => files.state.removeMarker(runId),
        setFlags: (writes) => this.#flags.write(writes),
        });
        if (result) recovered.push(result);
      }
      await files.leases.releaseGone();
      await files.state.compact();
    }
    return recovered;
  }

  async #sweepTemps(files: PipelineFiles): Promise<void> {
    // Compared with file mtimes, which the OS stamps with the real clock: not the injected one.
    const now = Date.now();
    const dirs = [files.dir, ...['active', 'pending', 'leases', 'runs'].map((d) => join(files.dir, d))];
    dirs.push(...(await files.runs.months()).map((m) => join(files.dir, 'runs', m)));
    for await (const day of files.runs.days()) dirs.push(join(files.dir, 'runs', day));
    for (const dir of dirs) await sweepStaleTemps(dir, now, STALE_TEMP_MS);
  }
}
