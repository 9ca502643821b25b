/**
 * `sets:` of a succeeded run survive a SIGKILL at every point after the run ended (through the
 * WEIR_TEST_CRASH_AT seam, never by timing): the next run's recovery records the run as succeeded
 * and its flags are there; a run killed before it ended sets nothing.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { LEDGER_STEPS } from '../../src/ledger/ledger-step.ts';
import { RUN_CHECKPOINTS } from '../../src/use-cases/run-deps.ts';
import { BIN, project, weir } from '../cli/helpers.ts';

/** Each run sets a flag keyed by its own id, so the first run's flag is told apart from the next one's. */
const PIPELINE = `name: marks
stages:
  mark:
    uses: sql
    with: { query: "select 1 as x" }
    sets: { marked: { value: true, key: "{{ run.id }}" } }
`;

function runKilledAt(dir: string, step: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', 'marks'], { cwd: dir, stdio: 'ignore', env: { ...process.env, WEIR_TEST_CRASH_AT: step } });
    child.once('exit', (_code, signal) => resolve(signal));
  });
}

describe('sets: and a run killed between its writes', () => {
  it.each([...RUN_CHECKPOINTS, ...LEDGER_STEPS])('killed after %s: the run is recovered as succeeded, with its flag', async (step) => {
    const dir = project({ 'pipelines/marks.yml': PIPELINE });
    expect(await runKilledAt(dir, step)).toBe('SIGKILL');
    expect((await weir(dir, ['run', 'marks'])).code).toBe(0);
    const runs = JSON.parse((await weir(dir, ['history', 'marks', '--json'])).stdout) as { runId: string; status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    const flags = await new FsLedgerStore(join(dir, '.weir', 'ledger')).readFlags('marks');
    expect(flags.map((f) => [f.key, f.by]).sort()).toEqual(runs.map((r) => [r.runId, `run ${r.runId}`]).sort());
  }, 60_000);

  it('killed before it ended (first stage not yet recorded): abandoned, and sets nothing', async () => {
    const dir = project({ 'pipelines/marks.yml': PIPELINE });
    expect(await runKilledAt(dir, 'active-saved')).toBe('SIGKILL');
    const recovered = await weir(dir, ['flags', 'marks', '--json']);
    expect(JSON.parse(recovered.stdout)).toEqual([]);
    expect(JSON.parse((await weir(dir, ['history', 'marks', '--json'])).stdout)[0].status).toBe('abandoned');
  }, 60_000);
});
