/**
 * Leases on disk: `leases/slot-<i>.json`, i < max_active_runs, each created exclusively and holding
 * its owner. A slot whose owner is gone is taken over with `takeOverStaleFile`, which never removes
 * a slot that a live owner took meanwhile.
 */
import { join } from 'node:path';
import { createFileExclusive, listIfExists, readTextIfExists, takeOverStaleFile, writeFileDurable } from './durable-file.ts';
import type { Lease, LeaseOwner, LeaseResult, RenewResult } from './ledger-store.ts';
import { isOwnerGone, isSameOwner, type OwnerLiveness } from './owner-liveness.ts';

function parseOwner(text: string | undefined): LeaseOwner | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LeaseOwner;
  } catch {
    return undefined;
  }
}

const UNREADABLE_HOLDER: LeaseOwner = { runId: 'unknown (unreadable lease file)', host: 'unknown', pid: 0, startedAt: '', heartbeatAt: '' };

export class FsLeases {
  readonly #dir: string;
  readonly #liveness: OwnerLiveness;

  constructor(pipelineDir: string, liveness: OwnerLiveness) {
    this.#dir = join(pipelineDir, 'leases');
    this.#liveness = liveness;
  }

  #slotPath(slot: number): string {
    return join(this.#dir, `slot-${slot}.json`);
  }

  async #slots(): Promise<{ slot: number; text: string; owner: LeaseOwner | undefined }[]> {
    const slots = [];
    for (const name of await listIfExists(this.#dir)) {
      const match = /^slot-(\d+)\.json$/.exec(name);
      if (!match) continue;
      const text = await readTextIfExists(join(this.#dir, name));
      if (text !== undefined) slots.push({ slot: Number(match[1]), text, owner: parseOwner(text) });
    }
    return slots.sort((a, b) => a.slot - b.slot);
  }

  async acquire(pipeline: string, owner: LeaseOwner, maxActive: number): Promise<LeaseResult> {
    const existing = (await this.#slots()).find((s) => s.slot < maxActive && s.owner && isSameOwner(s.owner, owner));
    if (existing) return { acquired: true, lease: { pipeline, slot: existing.slot, owner: existing.owner! } };
    const holders: LeaseOwner[] = [];
    for (let slot = 0; slot < maxActive; slot++) {
      const holder = await this.#tryTakeSlot(slot, owner);
      if (!holder) return { acquired: true, lease: { pipeline, slot, owner } };
      holders.push(holder);
    }
    return { acquired: false, holders };
  }

  /** Undefined when the slot is now ours; else its holder. */
  async #tryTakeSlot(slot: number, owner: LeaseOwner): Promise<LeaseOwner | undefined> {
    const path = this.#slotPath(slot);
    // A few rounds: a slot freed or taken over between our create and our read gets another try.
    let holder: LeaseOwner | undefined;
    for (let round = 0; round < 3; round++) {
      if (await createFileExclusive(path, JSON.stringify(owner))) return undefined;
      const text = await readTextIfExists(path);
      if (text === undefined) continue;
      holder = parseOwner(text);
      // An unreadable slot cannot be judged: it counts as held until a person removes it.
      if (!holder) return UNREADABLE_HOLDER;
      if (!isOwnerGone(holder, this.#liveness)) return holder;
      await takeOverStaleFile(path, text);
    }
    return holder ?? UNREADABLE_HOLDER;
  }

  async renew(lease: Lease): Promise<RenewResult> {
    const path = this.#slotPath(lease.slot);
    const holder = parseOwner(await readTextIfExists(path));
    if (!holder || !isSameOwner(holder, lease.owner)) return { renewed: false, holder };
    const owner = { ...holder, heartbeatAt: new Date(this.#liveness.now()).toISOString() };
    await writeFileDurable(path, JSON.stringify(owner));
    return { renewed: true, lease: { ...lease, owner } };
  }

  async release(lease: Lease): Promise<void> {
    const path = this.#slotPath(lease.slot);
    const text = await readTextIfExists(path);
    const holder = parseOwner(text);
    if (text !== undefined && holder && isSameOwner(holder, lease.owner)) await takeOverStaleFile(path, text);
  }

  async list(): Promise<LeaseOwner[]> {
    return (await this.#slots()).flatMap((s) => (s.owner ? [s.owner] : []));
  }

  /** Frees every slot whose owner is gone; returns those owners. */
  async releaseGone(): Promise<LeaseOwner[]> {
    const freed: LeaseOwner[] = [];
    for (const { slot, text, owner } of await this.#slots()) {
      if (owner && isOwnerGone(owner, this.#liveness) && (await takeOverStaleFile(this.#slotPath(slot), text))) freed.push(owner);
    }
    return freed;
  }
}
