/**
 * A run killed with SIGKILL at every point between its writes (through the WEIR_TEST_CRASH_AT
 * seam, never by timing): the next run recovers it, and no processed file is lost or processed twice.
 */
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { LEDGER_STEPS } from '../../src/ledger/ledger-step.ts';
import { RUN_CHECKPOINTS } from '../../src/use-cases/run-deps.ts';
import { BIN, project, weir } from '../cli/helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const PIPELINE = `name: ingest
stages:
  load:
    uses: files
    with: { path: "in/*.csv", archive: done }
  save:
    uses: export
    needs: [load]
    if: "{{ stages.load.rows > 0 }}"
    with: { table: load, path: out/rows.csv }
`;

function runKilledAt(dir: string, step: string): Promise<NodeJS.Signals | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'run', 'ingest'], { cwd: dir, stdio: 'ignore', env: { ...process.env, WEIR_TEST_CRASH_AT: step } });
    child.once('exit', (_code, signal) => resolve(signal));
  });
}

describe('a run killed between any two of its writes', () => {
  it('killed before its first stage: it leaves a trace, shows abandoned, and the next run processes the files once', async () => {
    const dir = project({ 'pipelines/ingest.yml': PIPELINE, 'in/a.csv': 'id,v\n1,x\n2,y\n', 'in/b.csv': 'id,v\n3,z\n' });
    dirs.push(dir);
    expect(await runKilledAt(dir, 'active-saved')).toBe('SIGKILL');
    const [dead] = JSON.parse((await weir(dir, ['history', 'ingest', '--json'])).stdout);
    expect(dead).toMatchObject({ status: 'abandoned' });

    const next = await weir(dir, ['run', 'ingest', '--json']);
    expect(next.code).toBe(0);
    expect(JSON.parse(next.stdout).stages.load.rows).toBe(3);
    const runs = JSON.parse((await weir(dir, ['history', 'ingest', '--json'])).stdout) as { runId: string; status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'abandoned']);
    const state = await new FsLedgerStore(join(dir, '.weir', 'ledger')).readState('ingest');
    expect(Object.values(state.processedFiles).map((f) => f.runId)).toEqual([runs[0].runId, runs[0].runId]);
  });

  it.each([...RUN_CHECKPOINTS, ...LEDGER_STEPS])('killed after %s: recovered once, files neither lost nor processed twice', async (step) => {
    const dir = project({ 'pipelines/ingest.yml': PIPELINE, 'in/a.csv': 'id,v\n1,x\n2,y\n', 'in/b.csv': 'id,v\n3,z\n' });
    dirs.push(dir);
    expect(await runKilledAt(dir, step)).toBe('SIGKILL');

    const next = await weir(dir, ['run', 'ingest', '--json']);
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    // The crashed run's files were already committed (or are now, by recovery): none is loaded again.
    expect(JSON.parse(next.stdout).stages.load.rows ?? 0).toBe(0);

    const runs = JSON.parse((await weir(dir, ['history', 'ingest', '--json'])).stdout) as { runId: string; status: string }[];
    expect(runs.map((r) => r.status)).toEqual(['succeeded', 'succeeded']);
    expect(new Set(runs.map((r) => r.runId)).size).toBe(2);
    const state = await new FsLedgerStore(join(dir, '.weir', 'ledger')).readState('ingest');
    expect(Object.values(state.processedFiles).map((f) => f.path).sort()).toEqual(['in/a.csv', 'in/b.csv']);
    expect(Object.values(state.processedFiles).every((f) => f.runId === runs[1].runId)).toBe(true);
    expect(readdirSync(join(dir, '.weir', 'ledger', 'ingest')).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });
});
