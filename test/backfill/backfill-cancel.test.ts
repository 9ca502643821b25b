/** Ctrl-C during a backfill: the run going on is recorded cancelled and no further interval starts. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BIN, project, weir } from '../cli/helpers.ts';

const SLOW = `name: slow
stages:
  nap:
    uses: command
    timeout: 60s
    with: { run: 'touch started; exec sleep 30' }
`;

async function waitFor(path: string): Promise<void> {
  // Polls for a file the stage itself writes: waits for an exact point of the run, asserts no time.
  while (!existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('weir backfill and SIGINT', () => {
  it('cancels the current run, starts no other interval, and exits 130', async () => {
    const dir = project({ 'pipelines/slow.yml': SLOW });
    const child = spawn(process.execPath, [BIN, 'backfill', 'slow', '--from', '2025-01-01', '--to', '2025-01-03', '--json'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    onTestFinished(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await closed;
    });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    await waitFor(join(dir, 'started'));
    child.kill('SIGINT');
    expect(await closed).toBe(130);
    const result = JSON.parse(stdout);
    expect(result.runs.map((r: { record: { status: string } }) => r.record.status)).toEqual(['cancelled']);
    expect(result.notStarted.map((i: { start: string }) => i.start.slice(0, 10))).toEqual(['2025-01-02', '2025-01-03']);
    expect(JSON.parse((await weir(dir, ['history', 'slow', '--json'])).stdout)).toHaveLength(1);
  });
});
