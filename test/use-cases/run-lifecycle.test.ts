/**
 * The run contract, driven through the real CLI as a user (or GitHub's cancel button) would:
 * every run ends recorded, cancellation is not failure, and --from / --resume restore upstream
 * outputs as their stages left them.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, project, weir } from '../cli/helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function newProject(files: Record<string, string>): string {
  const dir = project(files);
  dirs.push(dir);
  return dir;
}

async function waitFor(path: string): Promise<void> {
  // Polls for a file the stage itself writes: waits for an exact point of the run, asserts no time.
  while (!existsSync(path)) await new Promise((resolve) => setTimeout(resolve, 25));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function events(dir: string, pipeline: string, runId: string): { type: string; stage?: string }[] {
  return readFileSync(join(dir, '.weir', 'runs', pipeline, runId, 'events.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
}

async function lastRecord(dir: string) {
  const history = await weir(dir, ['history', '--json']);
  return JSON.parse(history.stdout)[0];
}

const SLOW = `name: slow
stages:
  a:
    uses: sql
    with: { query: select 1 as x }
  nap:
    uses: command
    needs: [a]
    timeout: 60s
    with: { run: 'echo $$ > child.pid; touch started; exec sleep 30' }
  after:
    uses: sql
    needs: [nap]
    with: { query: select 2 as y }
`;

describe('cancellation', () => {
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('%s stops the run: recorded cancelled, exit %i, one attempt, downstream cancelled, the child gone', async (signal, code) => {
    const dir = newProject({ 'pipelines/slow.yml': SLOW });
    const child = spawn(process.execPath, [BIN, 'run', 'slow'], { cwd: dir, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    await waitFor(join(dir, 'started'));
    child.kill(signal);
    expect(await exited).toBe(code);

    const record = await lastRecord(dir);
    expect(record).toMatchObject({ status: 'cancelled', error: { code: 'cancelled' }, stages: { a: { status: 'succeeded' }, nap: { status: 'cancelled' }, after: { status: 'cancelled' } } });
    expect(record.stages.nap.attempts).toHaveLength(1);
    const log = events(dir, 'slow', record.runId);
    expect(log.filter((e) => e.type === 'stage.failed' || e.type === 'stage.retrying')).toEqual([]);
    expect(log.at(-1)).toMatchObject({ type: 'run.finished', status: 'cancelled' });
    expect(stdout).not.toMatch(/retrying/);
    expect(isAlive(Number(readFileSync(join(dir, 'child.pid'), 'utf8')))).toBe(false);
  });
});

describe('a run whose process dies', () => {
  it('takes its command child with it on kill -9, shows as abandoned, and is closed by the next run, which gets the lease', async () => {
    const dir = newProject({
      'pipelines/slow.yml': SLOW.replace("name: slow", "name: slow\nparams:\n  nap: { type: integer, default: 30 }").replace('exec sleep 30', 'exec sleep {{ params.nap }}'),
    });
    const child = spawn(process.execPath, [BIN, 'run', 'slow'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor(join(dir, 'started'));
    child.kill('SIGKILL');
    await exited;
    const grandchild = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    // The watchdog notices its parent is gone within a poll; bounded, so a leak fails instead of hanging.
    for (let i = 0; i < 200 && isAlive(grandchild); i++) await new Promise((resolve) => setTimeout(resolve, 25));
    expect(isAlive(grandchild)).toBe(false);

    const before = await lastRecord(dir);
    // Read-only: nothing is written yet, the owner is simply seen to be gone.
    expect(before).toMatchObject({ status: 'abandoned' });

    const next = await weir(dir, ['run', 'slow', '--param', 'nap=0']);
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
    const runs = JSON.parse((await weir(dir, ['history', 'slow', '--json'])).stdout);
    expect(runs.map((r: { status: string }) => r.status)).toEqual(['succeeded', 'abandoned']);
    // Recovery folded its event log: what it did before it died is all there.
    expect(runs[1]).toMatchObject({ runId: before.runId, error: { code: 'abandoned' }, stages: { a: { status: 'succeeded' }, nap: { status: 'cancelled' }, after: { status: 'cancelled' } } });
  });

  it('refuses a second run of the same pipeline while the first holds the lease, naming the holder', async () => {
    const dir = newProject({ 'pipelines/slow.yml': SLOW });
    const first = spawn(process.execPath, [BIN, 'run', 'slow'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((resolve) => first.once('exit', resolve));
    await waitFor(join(dir, 'started'));
    const second = await weir(dir, ['run', 'slow']);
    first.kill('SIGINT');
    await exited;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/pipeline 'slow' is already running .*pid \d+/);
    expect(second.stderr).toMatch(/--wait/);
  });
});

describe('every run ends recorded', () => {
  it('records a run whose stdout reader went away (weir run … | head -1)', async () => {
    const dir = newProject({
      'pipelines/many.yml': `name: many\nstages:\n${Array.from({ length: 30 }, (_, i) => `  s${i}:\n    uses: sql\n    with: { query: select ${i} as x }\n`).join('')}`,
    });
    const result = await new Promise<number | null>((resolve) => {
      const child = spawn('sh', ['-c', `'${process.execPath}' '${BIN}' run many --verbose | head -1 >/dev/null; exit \${PIPESTATUS:-0}`], { cwd: dir, stdio: 'ignore' });
      child.once('exit', resolve);
    });
    expect(result).toBe(0);
    const record = await lastRecord(dir);
    expect(record).toMatchObject({ pipeline: 'many', status: 'succeeded' });
    expect(Object.values(record.stages).every((s) => (s as { status: string }).status === 'succeeded')).toBe(true);
  });

  it('records a run whose condition fails at run time, failing that stage and finishing its siblings', async () => {
    const dir = newProject({
      'pipelines/cond.yml': `name: cond
params:
  day: { type: string, default: not-a-date }
stages:
  a:
    uses: sql
    with: { query: select 1 as x }
  b:
    uses: sql
    needs: [a]
    if: "{{ params.day | date }} == '2026-01-01'"
    with: { query: select 2 as y }
  c:
    uses: sql
    needs: [a]
    with: { query: select 3 as z }
`,
    });
    expect((await weir(dir, ['validate'])).code).toBe(0);
    const run = await weir(dir, ['run', 'cond']);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toMatch(/at .*\.(m?js|ts):\d+/);
    const record = await lastRecord(dir);
    expect(record).toMatchObject({ status: 'failed', stages: { a: { status: 'succeeded' }, b: { status: 'failed', error: { code: 'config_error' } }, c: { status: 'succeeded' } } });
    expect(record.stages.b.error.message).toMatch(/condition/);
  });
});

/** `cleanup` drops the table `total` read: a database copied after the run could not serve `--from total`. */
const MUTATING = `name: sales
stages:
  orders:
    uses: sql
    with: { query: "select * from (values (1, 'a', 3), (2, 'b', 5), (3, 'a', 1)) t(id, sku, qty)" }
  total:
    uses: sql
    needs: [orders]
    with: { query: "select sku, sum(qty) as qty from orders group by sku order by sku" }
  cleanup:
    uses: sql
    needs: [total]
    with: { query: drop table orders, materialize: none }
  save:
    uses: export
    needs: [total]
    with: { table: total, path: out/total.csv }
`;

describe('--from and --resume restore upstream outputs as their stage left them', () => {
  it('reruns from a stage whose upstream table a later stage dropped', async () => {
    const dir = newProject({ 'pipelines/sales.yml': MUTATING });
    expect((await weir(dir, ['run', 'sales'])).code).toBe(0);
    const expected = readFileSync(join(dir, 'out', 'total.csv'), 'utf8');
    rmSync(join(dir, 'out'), { recursive: true });
    const rerun = await weir(dir, ['run', 'sales', '--from', 'total', '--json']);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    expect(JSON.parse(rerun.stdout).stages.orders.status).toBe('reused');
    expect(readFileSync(join(dir, 'out', 'total.csv'), 'utf8')).toBe(expected);
    // A script stage (cleanup) may change any table, so the first run kept orders as Parquet.
    const firstRun = JSON.parse(rerun.stdout).stages.orders.reusedFrom;
    expect(existsSync(join(dir, '.weir', 'runs', 'sales', firstRun, 'outputs', 'orders.parquet'))).toBe(true);
  });

  it('refuses --from when no earlier run kept the upstream output, naming the stage and the fix, writing nothing', async () => {
    const dir = newProject({ 'pipelines/sales.yml': MUTATING });
    const rerun = await weir(dir, ['run', 'sales', '--from', 'total']);
    expect(rerun.code).toBe(2);
    expect(rerun.stderr).toMatch(/stage 'orders'.*--only orders/);
    expect(existsSync(join(dir, '.weir', 'runs'))).toBe(false);
  });

  it('resumes a failed run from its event log: succeeded stages reused, the rest run, same final tables', async () => {
    const pipeline = `name: flaky
stages:
  orders:
    uses: sql
    with: { query: "select * from (values (1, 3), (2, 5)) t(id, qty)" }
  gate:
    uses: command
    needs: [orders]
    policy: { retries: 0 }
    with: { run: 'test -f ok' }
  doubled:
    uses: sql
    needs: [orders, gate]
    with: { query: "select id, qty * 2 as qty from orders" }
  save:
    uses: export
    needs: [doubled]
    with: { table: doubled, path: out/doubled.csv }
`;
    const reference = newProject({ 'pipelines/flaky.yml': pipeline, ok: '' });
    expect((await weir(reference, ['run', 'flaky'])).code).toBe(0);

    const dir = newProject({ 'pipelines/flaky.yml': pipeline });
    const failed = await weir(dir, ['run', 'flaky', '--json']);
    expect(failed.code).toBe(1);
    const failedRun = JSON.parse(failed.stdout);
    expect(failedRun.stages.gate.status).toBe('failed');
    writeFileSync(join(dir, 'ok'), '');
    const resumed = await weir(dir, ['run', 'flaky', '--resume', 'last', '--json']);
    expect(resumed.code).toBe(0);
    const record = JSON.parse(resumed.stdout);
    expect(record).toMatchObject({ trigger: 'resume', params: failedRun.params, interval: failedRun.interval });
    expect(record.stages.orders).toMatchObject({ status: 'reused', reusedFrom: failedRun.runId });
    expect(record.stages.gate.status).toBe('succeeded');
    // Nothing in this pipeline can change orders after its stage: it was kept in the run's database, not copied.
    expect(existsSync(join(dir, '.weir', 'runs', 'flaky', failedRun.runId, 'outputs', 'orders.parquet'))).toBe(false);
    expect(readFileSync(join(dir, 'out', 'doubled.csv'), 'utf8')).toBe(readFileSync(join(reference, 'out', 'doubled.csv'), 'utf8'));
  });
});

describe('listeners', () => {
  it('a listener that throws is turned off with one warning; the run goes on and is recorded', async () => {
    const { runPipeline } = await import('../../src/use-cases/run-pipeline.ts');
    const { createLocalRunDeps } = await import('../../src/entrypoints/local-run-deps.ts');
    const { loadPipelineSource } = await import('../../src/definitions/load-pipeline.ts');
    const { defaultStageKinds } = await import('../../src/stages/registry.ts');
    const yaml = 'name: p\nstages:\n  a: { uses: sql, with: { query: select 1 as x } }\n  b: { uses: sql, needs: [a], with: { query: select 2 as y } }\n';
    const root = newProject({ 'pipelines/p.yml': yaml });
    const { pipeline } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true });
    const warnings: string[] = [];
    let calls = 0;
    const seen: string[] = [];
    const summary = await runPipeline(
      {
        pipeline: pipeline!,
        root,
        kinds: defaultStageKinds(),
        listeners: [
          () => {
            calls++;
            throw new Error('listener bug');
          },
          (event) => seen.push(event.type),
        ],
        warn: (message) => warnings.push(message),
      },
      createLocalRunDeps({ root }),
    );
    expect(summary.record.status).toBe('succeeded');
    expect(calls).toBe(1);
    expect(warnings).toEqual([expect.stringContaining('listener bug')]);
    expect(seen.at(-1)).toBe('run.finished');
    const runs = JSON.parse((await weir(root, ['history', '--json'])).stdout);
    expect(runs[0]).toMatchObject({ runId: summary.runId, status: 'succeeded' });
  });
});
