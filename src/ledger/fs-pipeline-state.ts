/**
 * A pipeline's state on disk: the fold of committed runs.
 *
 *   pending/<run id>.json   a succeeded run's commit, written before its run file
 *   state.json              snapshot `{ version: 2, watermarks, processedFiles, applied }`
 *   state.lock              held while compacting (a few ms)
 *
 * readState = snapshot ⊕ the pending commits whose run file exists and that `applied` does not
 * list. Compaction folds those into the snapshot, writes it, then deletes their markers; a crash
 * between any two steps is harmless because the fold is idempotent and `applied` says what is in.
 */
import { rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type CommittedRun, emptyPipelineState, foldCommits, type PipelineState } from '../model/state.ts';
import { existsFile, fsyncDir, listIfExists, readJsonIfExists, readTextIfExists, removeDurable, takeOverStaleFile, writeFileDurable } from './durable-file.ts';
import type { LedgerHooks } from './ledger-step.ts';
import type { OwnerLiveness } from './owner-liveness.ts';

/** A compaction lock older than this is stale even if its owner may live (compaction takes ms). */
export const STATE_LOCK_STALE_MS = 30_000;

export interface PendingMarker extends CommittedRun {
  /** Day folder (`YYYY-MM/DD`) of the run file, whose existence makes the commit count. */
  day: string;
}

export interface StateSnapshot extends PipelineState {
  version: 2;
  /** Run ids applied whose pending marker may still exist (a crash before their deletion). */
  applied: string[];
}

interface LockContent {
  host: string;
  pid: number;
  at: number;
}

export class FsPipelineState {
  readonly #dir: string;
  readonly #liveness: OwnerLiveness;
  readonly #hooks: LedgerHooks;

  constructor(pipelineDir: string, liveness: OwnerLiveness, hooks: LedgerHooks = {}) {
    this.#dir = pipelineDir;
    this.#liveness = liveness;
    this.#hooks = hooks;
  }

  markerPath(runId: string): string {
    return join(this.#dir, 'pending', `${runId}.json`);
  }

  runPath(day: string, runId: string): string {
    return join(this.#dir, 'runs', day, `${runId}.json`);
  }

  async writeMarker(marker: PendingMarker): Promise<void> {
    await writeFileDurable(this.markerPath(marker.runId), JSON.stringify(marker));
  }

  removeMarker(runId: string): Promise<void> {
    return removeDurable(this.markerPath(runId));
  }

  readMarker(runId: string): Promise<PendingMarker | undefined> {
    return readJsonIfExists<PendingMarker>(this.markerPath(runId));
  }

  async readSnapshot(): Promise<StateSnapshot> {
    // A first-format state.json has no version and no `applied`: it is a snapshot that applied nothing pending.
    const stored = await readJsonIfExists<Partial<StateSnapshot>>(join(this.#dir, 'state.json'));
    return { ...emptyPipelineState(), ...stored, version: 2, applied: stored?.applied ?? [] };
  }

  /** Pending commits not yet in the snapshot whose run file exists (the run is recorded). */
  async #unapplied(snapshot: StateSnapshot): Promise<{ markers: PendingMarker[]; onDisk: string[] }> {
    const onDisk = (await listIfExists(join(this.#dir, 'pending'))).filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5));
    const applied = new Set(snapshot.applied);
    const markers: PendingMarker[] = [];
    for (const runId of onDisk.filter((id) => !applied.has(id))) {
      const marker = await this.readMarker(runId);
      if (marker && (await existsFile(this.runPath(marker.day, runId)))) markers.push(marker);
    }
    return { markers, onDisk };
  }

  async readState(): Promise<PipelineState> {
    const snapshot = await this.readSnapshot();
    const { markers } = await this.#unapplied(snapshot);
    if (markers.length) await this.compact();
    return foldCommits({ watermarks: snapshot.watermarks, processedFiles: snapshot.processedFiles }, markers);
  }

  /** Folds recorded pending commits into the snapshot; skipped (false) when another process compacts. */
  async compact(): Promise<boolean> {
    const release = await this.#tryLock();
    if (!release) return false;
    try {
      const snapshot = await this.readSnapshot();
      const { markers, onDisk } = await this.#unapplied(snapshot);
      const present = new Set(onDisk);
      const stillListed = snapshot.applied.filter((id) => present.has(id));
      if (markers.length) {
        const state = foldCommits(snapshot, markers);
        const next: StateSnapshot = { version: 2, ...state, applied: [...stillListed, ...markers.map((m) => m.runId)] };
        await writeFileDurable(join(this.#dir, 'state.json'), `${JSON.stringify(next, null, 1)}\n`);
        await this.#hooks.afterStep?.('snapshot-written');
      }
      const toDelete = [...stillListed, ...markers.map((m) => m.runId)];
      for (const runId of toDelete) await rm(this.markerPath(runId), { force: true });
      if (toDelete.length) {
        await fsyncDir(join(this.#dir, 'pending'));
        await this.#hooks.afterStep?.('markers-deleted');
      }
      return true;
    } finally {
      await release();
    }
  }

  #isLockStale(text: string | undefined, mtimeMs: number): boolean {
    let content: LockContent | undefined;
    try {
      content = text ? (JSON.parse(text) as LockContent) : undefined;
    } catch {
      content = undefined;
    }
    // An unreadable lock is judged by its mtime, which the OS stamps with the real clock.
    if (!content) return Date.now() - mtimeMs > STATE_LOCK_STALE_MS;
    const now = this.#liveness.now();
    if (content.host === this.#liveness.host && !this.#liveness.isPidAlive(content.pid)) return true;
    return now - content.at > STATE_LOCK_STALE_MS;
  }

  /**
   * The compaction lock: O_EXCL create, no fsync (a lock need not survive a power cut). A stale
   * lock (dead owner on this host, or older than 30 s) is taken over without ever removing a fresh one.
   */
  async #tryLock(): Promise<(() => Promise<void>) | undefined> {
    const path = join(this.#dir, 'state.lock');
    const mine = JSON.stringify({ host: this.#liveness.host, pid: process.pid, at: this.#liveness.now(), nonce: Math.random() } satisfies LockContent & { nonce: number });
    const release = async () => {
      if ((await readTextIfExists(path)) === mine) await rm(path, { force: true });
    };
    for (let tries = 0; tries < 3; tries++) {
      try {
        await writeFile(path, mine, { flag: 'wx' });
        return release;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const text = await readTextIfExists(path);
      const info = await stat(path).catch(() => undefined);
      // Released between our create and our read (or our stat): try to create it again. Only a lock
      // judged stale is ever moved aside: moving a live one, even for a moment, let a third process
      // create a lock beside its holder's, and two compactions overwrote each other's state.json.
      if (text === undefined || !info) continue;
      if (!this.#isLockStale(text, info.mtimeMs)) return undefined;
      if (!(await takeOverStaleFile(path, text))) return undefined;
    }
    return undefined;
  }
}
