import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cleanLeftovers, filesCreating, findMarkedProcesses, RUN_MARKER } from '../global-setup.ts';

/** A `sleep` child carrying `marker` in its environment, killed at the end of the test if still alive. */
function markedSleep(marker: string) {
  const child = spawn('sleep', ['30'], { env: { ...process.env, [RUN_MARKER]: marker }, stdio: 'ignore' });
  onTestFinished(() => void child.kill('SIGKILL'));
  return new Promise<number>((resolve, reject) => child.once('spawn', () => resolve(child.pid!)).once('error', reject));
}

function exited(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (findMarkedProcesses(RUN_MARKER, 'unit-kill').some((p) => p.pid === pid) ? setImmediate(poll) : resolve());
    poll();
  });
}

describe.runIf(existsSync('/proc'))('the leftover check of test/global-setup.ts', () => {
  it('finds the processes that carry the run marker and only those', async () => {
    const ours = await markedSleep('unit-ours');
    const theirs = await markedSleep('unit-theirs');
    const found = findMarkedProcesses(RUN_MARKER, 'unit-ours');
    expect(found).toEqual([{ pid: ours, command: 'sleep 30' }]);
    expect(found.map((p) => p.pid)).not.toContain(theirs);
  });

  it('leaves out the children of the given parent (vitest workers still exiting)', async () => {
    await markedSleep('unit-child');
    expect(findMarkedProcesses(RUN_MARKER, 'unit-child', new Set(), process.pid)).toEqual([]);
  });

  it('kills leftover processes, removes the temp folder and names the test file behind each folder', async () => {
    const runTmp = mkdtempSync(join(tmpdir(), 'weir-leftovers-'));
    onTestFinished(() => rmSync(runTmp, { recursive: true, force: true }));
    mkdirSync(join(runTmp, 'weir-cli-abc123'));
    mkdirSync(join(runTmp, 'weir-nobody-abc123'));
    const pid = await markedSleep('unit-kill');
    const leftovers = cleanLeftovers(runTmp, findMarkedProcesses(RUN_MARKER, 'unit-kill'));
    expect(existsSync(runTmp)).toBe(false);
    await exited(pid);
    expect(leftovers).toEqual([
      // No leak is known today (KNOWN_LEAKS is empty): every leftover fails the run.
      { line: 'temp folder weir-cli-abc123 (created by: test/cli/helpers.ts)', known: false },
      { line: 'temp folder weir-nobody-abc123 (created by: unknown)', known: false },
      { line: `process ${pid}: sleep 30`, known: false },
    ]);
  });

  it('treats known leaks as failures too in strict mode', () => {
    const runTmp = mkdtempSync(join(tmpdir(), 'weir-leftovers-'));
    onTestFinished(() => rmSync(runTmp, { recursive: true, force: true }));
    mkdirSync(join(runTmp, 'weir-cli-abc123'));
    expect(cleanLeftovers(runTmp, [], true)).toEqual([{ line: 'temp folder weir-cli-abc123 (created by: test/cli/helpers.ts)', known: false }]);
  });

  it('finds the test files that create folders with a prefix', () => {
    expect(filesCreating('weir-pack-Xy12Ab')).toEqual(['test/package/pack.test.ts']);
  });
});
