/**
 * One load at a time per target (a DuckDB file or a Parquet dataset), so two runs loading the same
 * target (a backfill with --max-parallel, a scheduled run beside a manual one) never interleave their
 * delete and insert, nor read-merge-rename cycles. In this process a promise chain per path; across
 * processes a lock file `<target>.weir-lock` created exclusively (link), holding the owner's pid and
 * host. A lock left by a process that is gone (killed with -9) on this host is taken over.
 */
import { link, readFile, rm, writeFile } from 'node:fs/promises';
import { takeOverStaleFile } from '../ledger/durable-file.ts';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { isPidAlive } from '../ledger/owner-liveness.ts';

/** How often a load waiting for another process's lock looks again. */
const POLL_MS = 100;

const chains = new Map<string, Promise<unknown>>();

export interface TargetLockOptions {
  /** Whether a pid on this host is alive. Default: process.kill(pid, 0). */
  isAlive?(pid: number): boolean;
  pollMs?: number;
}

/** Runs `work` holding the lock of `target` (an absolute path); waits for it while another load holds it. */
export async function withTargetLock<T>(target: string, signal: AbortSignal, work: () => Promise<T>, options: TargetLockOptions = {}): Promise<T> {
  const before = chains.get(target) ?? Promise.resolve();
  const run = before.catch(() => undefined).then(async () => {
    const release = await acquireFile(`${target}.weir-lock`, signal, options);
    try {
      return await work();
    } finally {
      await release();
    }
  });
  const tail = run.catch(() => undefined);
  chains.set(target, tail);
  void tail.then(() => chains.get(target) === tail && chains.delete(target));
  return run;
}

async function acquireFile(lock: string, signal: AbortSignal, options: TargetLockOptions): Promise<() => Promise<void>> {
  const me = { pid: process.pid, host: hostname(), nonce: Math.random().toString(36).slice(2) };
  const mine = JSON.stringify(me);
  for (;;) {
    signal.throwIfAborted();
    // Written aside, then linked into place: the lock appears whole (link fails if it exists), never empty.
    const draft = `${lock}.${me.pid}.${me.nonce}`;
    await writeFile(draft, mine);
    try {
      await link(draft, lock);
      // Removed only while it is still ours.
      return async () => {
        if ((await readFile(lock, 'utf8').catch(() => undefined)) === mine) await rm(lock, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(draft, { force: true });
    }
    const stale = await staleText(lock, me.host, options.isAlive ?? isPidAlive);
    if (stale !== undefined) {
      // Moved aside only if it is still the lock judged stale: of two waiters that both judged it,
      // the second must not move the fresh lock the first has taken since (it is put back).
      await takeOverStaleFile(lock, stale);
      continue;
    }
    await sleep(options.pollMs ?? POLL_MS, undefined, { signal });
  }
}

/** The lock's text when its owner is gone (or it is not weir's), else undefined; gone already: undefined too (the next try takes it). */
async function staleText(lock: string, host: string, isAlive: (pid: number) => boolean): Promise<string | undefined> {
  const text = await readFile(lock, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const owner = JSON.parse(text) as { pid?: unknown; host?: unknown };
    // Another host's process cannot be checked from here: its lock is waited for.
    return owner.host === host && typeof owner.pid === 'number' && !isAlive(owner.pid) ? text : undefined;
  } catch {
    return text; // not weir's: links make a lock appear whole
  }
}
