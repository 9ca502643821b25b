/**
 * The load lock: loads of one target wait for each other, in this process and across processes (a
 * lock file held by a live pid is waited for; one left by a dead pid is taken over). The points where
 * a waiter looks again are driven by the injected `isAlive`, never by time.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { withTargetLock } from '../../src/stages/target-lock.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function target(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-lock-'));
  dirs.push(dir);
  return join(dir, 'sales.duckdb');
}
const signal = new AbortController().signal;

describe('withTargetLock', () => {
  it('runs loads of one target one after the other in this process', async () => {
    const path = target();
    const order: string[] = [];
    let release!: () => void;
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    const first = withTargetLock(path, signal, async () => {
      order.push('first start');
      started();
      await new Promise<void>((resolve) => (release = resolve));
      order.push('first end');
    });
    const second = withTargetLock(path, signal, async () => void order.push('second'));
    await firstStarted;
    expect(order).toEqual(['first start']);
    expect(JSON.parse(readFileSync(`${path}.weir-lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'first end', 'second']);
    expect(existsSync(`${path}.weir-lock`)).toBe(false);
  });

  it('waits while another live process holds the lock file, and goes on once it is released', async () => {
    const path = target();
    writeFileSync(`${path}.weir-lock`, JSON.stringify({ pid: 12345, host: hostname() }));
    let looks = 0;
    let ran = false;
    const isAlive = (pid: number) => {
      expect(pid).toBe(12345);
      looks++;
      // The other process finishes after the waiter has looked twice.
      if (looks === 2) rmSync(`${path}.weir-lock`);
      return true;
    };
    await withTargetLock(path, signal, async () => void (ran = true), { isAlive, pollMs: 1 });
    expect({ looks, ran }).toEqual({ looks: 2, ran: true });
  });

  it('waits for a lock of another host (its pid cannot be checked) and takes over a dead local owner’s', async () => {
    const path = target();
    writeFileSync(`${path}.weir-lock`, JSON.stringify({ pid: 1, host: 'elsewhere' }));
    const controller = new AbortController();
    const waiting = withTargetLock(path, controller.signal, async () => 'ran', { isAlive: () => false, pollMs: 1 });
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    writeFileSync(`${path}.weir-lock`, JSON.stringify({ pid: 1, host: hostname() }));
    expect(await withTargetLock(path, signal, async () => 'ran', { isAlive: () => false })).toBe('ran');
    expect(existsSync(`${path}.weir-lock`)).toBe(false);
  });
});
