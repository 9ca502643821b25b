/**
 * The ledger in memory, with the fs store's semantics (write-once runs, state as the fold of
 * committed runs, leases, recovery) and none of its files. Tests of other modules use it; the
 * contract suite (test/ledger/contract.ts) keeps the two in step.
 */
import { emptyPipelineState, foldCommits, type PipelineState, type StateCommit } from '../model/state.ts';
import { AmbiguousRunIdError } from './errors.ts';
import type { PipelineControl, Lease, LeaseOptions, LeaseOwner, LeaseResult, LedgerStore, RecoveredRun, RecoverOptions, RenewResult, RunQuery } from './ledger-store.ts';
import { isOwnerGone, isSameOwner, localOwnerLiveness, type OwnerLiveness } from './owner-liveness.ts';
import { recoverActiveRun } from './recover-run.ts';
import { presentActive, selectRuns } from './run-query.ts';
import type { RunRecord } from './run-record.ts';
import { flagId, sortFlags, type Flag, type FlagWrite } from './flags.ts';

export class MemoryLedgerStore implements LedgerStore {
  readonly #liveness: OwnerLiveness;
  readonly #finished = new Map<string, RunRecord>();
  readonly #active = new Map<string, RunRecord>();
  readonly #leases = new Map<string, (LeaseOwner | undefined)[]>();

  // Pause control (catch-up issue).
  readonly #controls = new Map<string, PipelineControl>();
  // Flags (gates issue).
  readonly #flags = new Map<string, Flag>();

  constructor(options: { liveness?: OwnerLiveness } = {}) {
    this.#liveness = options.liveness ?? localOwnerLiveness();
  }

  async readControl(pipeline: string): Promise<PipelineControl | undefined> {
    const control = this.#controls.get(pipeline);
    return control && structuredClone(control);
  }

  async writeControl(pipeline: string, control: PipelineControl): Promise<void> {
    this.#controls.set(pipeline, structuredClone(control));
  }

  async readFlags(scope: string): Promise<Flag[]> {
    return sortFlags([...this.#flags.values()].filter((f) => f.scope === scope).map((f) => structuredClone(f)));
  }

  async setFlags(writes: readonly FlagWrite[]): Promise<void> {
    for (const write of writes) {
      if (write.unset) this.#flags.delete(flagId(write));
      else {
        const { unset: _unset, ...flag } = write;
        this.#flags.set(flagId(write), structuredClone(flag));
      }
    }
  }

  async readState(pipeline: string): Promise<PipelineState> {
    const commits = [...this.#finished.values()].filter((r) => r.pipeline === pipeline && r.status === 'succeeded' && r.commit);
    return foldCommits(emptyPipelineState(), commits.map((r) => ({ runId: r.runId, at: r.finishedAt ?? r.startedAt, commit: r.commit! })));
  }

  async saveActive(record: RunRecord): Promise<void> {
    if (!this.#finished.has(record.runId)) this.#active.set(record.runId, structuredClone(record));
  }

  async finishRun(record: RunRecord, commit?: StateCommit): Promise<void> {
    this.#finish(record, commit);
  }

  #finish(record: RunRecord, commit?: StateCommit): boolean {
    this.#active.delete(record.runId);
    if (this.#finished.has(record.runId)) return false;
    const committed = record.status === 'succeeded' && commit ? commit : undefined;
    this.#finished.set(record.runId, structuredClone({ ...record, commit: committed }));
    return true;
  }

  async pipelines(): Promise<string[]> {
    const all = [...this.#finished.values(), ...this.#active.values()].map((r) => r.pipeline);
    return [...new Set([...all, ...this.#leases.keys()])].sort();
  }

  #records(pipeline?: string): RunRecord[] {
    const leases = [...this.#leases.values()].flat().filter((o): o is LeaseOwner => o !== undefined);
    const active = [...this.#active.values()].map((r) => presentActive(r, leases, this.#liveness));
    return [...this.#finished.values(), ...active].filter((r) => pipeline === undefined || r.pipeline === pipeline).map((r) => structuredClone(r));
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    return selectRuns(this.#records(query.pipeline), query);
  }

  async getRun(idOrPrefix: string): Promise<RunRecord | undefined> {
    const matches = selectRuns(this.#records(), {}).filter((r) => r.runId.startsWith(idOrPrefix));
    const exact = matches.find((r) => r.runId === idOrPrefix);
    if (exact || matches.length <= 1) return exact ?? matches[0];
    throw new AmbiguousRunIdError(idOrPrefix, matches.map((r) => r.runId));
  }

  #slots(pipeline: string): (LeaseOwner | undefined)[] {
    let slots = this.#leases.get(pipeline);
    if (!slots) this.#leases.set(pipeline, (slots = []));
    return slots;
  }

  async acquireLease(pipeline: string, owner: LeaseOwner, options: LeaseOptions = {}): Promise<LeaseResult> {
    const slots = this.#slots(pipeline);
    const maxActive = options.maxActive ?? 1;
    const held = slots.findIndex((o, i) => i < maxActive && o && isSameOwner(o, owner));
    if (held >= 0) return { acquired: true, lease: { pipeline, slot: held, owner: slots[held]! } };
    for (let slot = 0; slot < maxActive; slot++) {
      const holder = slots[slot];
      if (holder && !isOwnerGone(holder, this.#liveness)) continue;
      slots[slot] = { ...owner };
      return { acquired: true, lease: { pipeline, slot, owner: { ...owner } } };
    }
    return { acquired: false, holders: slots.slice(0, maxActive).map((o) => ({ ...o! })) };
  }

  async renewLease(lease: Lease): Promise<RenewResult> {
    const slots = this.#slots(lease.pipeline);
    const holder = slots[lease.slot];
    if (!holder || !isSameOwner(holder, lease.owner)) return { renewed: false, holder };
    slots[lease.slot] = { ...holder, heartbeatAt: new Date(this.#liveness.now()).toISOString() };
    return { renewed: true, lease: { ...lease, owner: { ...slots[lease.slot]! } } };
  }

  async releaseLease(lease: Lease): Promise<void> {
    const slots = this.#slots(lease.pipeline);
    const holder = slots[lease.slot];
    if (holder && isSameOwner(holder, lease.owner)) slots[lease.slot] = undefined;
  }

  async listLeases(pipeline: string): Promise<LeaseOwner[]> {
    return this.#slots(pipeline).filter((o): o is LeaseOwner => o !== undefined).map((o) => ({ ...o }));
  }

  async recover(options: RecoverOptions): Promise<RecoveredRun[]> {
    const recovered: RecoveredRun[] = [];
    const leases = [...this.#leases.values()].flat().filter((o): o is LeaseOwner => o !== undefined);
    for (const active of [...this.#active.values()]) {
      const result = await recoverActiveRun(structuredClone(active), leases, {
        liveness: this.#liveness,
        options,
        pendingCommit: async () => undefined,
        finish: async (record, commit) => this.#finish(record, commit),
        dropPendingCommit: async () => {},
        setFlags: (writes) => this.setFlags(writes),
      });
      if (result) recovered.push(result);
    }
    for (const slots of this.#leases.values()) {
      slots.forEach((owner, i) => {
        if (owner && isOwnerGone(owner, this.#liveness)) slots[i] = undefined;
      });
    }
    return recovered;
  }
}
