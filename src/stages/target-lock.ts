/**
 * One load at a time per target (a DuckDB file or a Parquet dataset), so two runs loading the same
 * target (a backfill with --max-parallel, a scheduled run beside a manual one) never interleave their
 * delete and insert, nor read-merge-rename cycles. In this process a promise chain per path; across
 * processes a lock file `<target>.weir-lock` created exclusively (link), holding the owner's pid and
 * host. A lock left by a process that is gone (killed with -9) on this host is taken over.
 */
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
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
  const me = { pid: process.pid, host: hostname() };
  for (;;) {
    signal.throwIfAborted();
    // Written aside, then linked into place: the lock appears whole (link fails if it exists), never empty.
    const draft = `${lock}.${me.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(draft, JSON.stringify(me));
    try {
      await link(draft, lock);
      return () => rm(lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    } finally {
      await rm(draft, { force: true });
    }
    if (await isStale(lock, me.host, options.isAlive ?? isPidAlive)) {
      // Renamed aside rather than removed: of two waiters that both saw it stale, only one moves it.
      await rename(lock, `${lock}.stale-${me.pid}`).then(() => rm(`${lock}.stale-${me.pid}`, { force: true }), () => undefined);
      continue;
    }
    await sleep(options.pollMs ?? POLL_MS, undefined, { signal });
  }
}

async function isStale(lock: string, host: string, isAlive: (pid: number) => boolean): Promise<boolean> {
  const text = await readFile(lock, 'utf8').catch(() => undefined);
  if (text === undefined) return false; // gone already: the next try takes it
  try {
    const owner = JSON.parse(text) as { pid?: unknown; host?: unknown };
    // Another host's process cannot be checked from here: its lock is waited for.
    return owner.host === host && typeof owner.pid === 'number' && !isAlive(owner.pid);
  } catch {
    return true; // not weir's: links make a lock appear whole
  }
}
