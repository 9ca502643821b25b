import { randomBytes } from 'node:crypto';

/** A run id that sorts by start time: `20261201T150405.123Z-3f9a1c`. */
export function newRunId(nowMs: number): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}
