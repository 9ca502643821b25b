/**
 * Gates, in process with a clock the test moves: a gate that is met passes at once; one that is not
 * parks the run (`waiting`, lease released, nothing committed) and a later trigger continues the
 * same run without running its finished stages again; past its timeout the gate fails; `sets:`
 * reach the ledger only when the run succeeds; of two resumers exactly one resumes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { GLOBAL_FLAG_SCOPE } from '../../src/ledger/flags.ts';
import type { LedgerStore } from '../../src/ledger/ledger-store.ts';
import { RunConflictError } from '../../src/model/errors.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { readHistory } from '../../src/use-cases/history.ts';
import { runPipeline, type RunRequest } from '../../src/use-cases/run-pipeline.ts';
import { runScheduled } from '../../src/use-cases/scheduled-run.ts';

const DAY_MS = 86_400_000;

/** The store with some methods replaced (the fs store keeps private fields: no Object.create). */
function withOverrides(store: LedgerStore, overrides: Partial<LedgerStore>): LedgerStore {
  return new Proxy(store, {
    get: (target, prop) => {
      if (prop in overrides) return overrides[prop as keyof LedgerStore];
      const value = Reflect.get(target, prop);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Upstream stages append to upstream.log: its line count says how often they ran. */
const DOCS = `name: docs
schedule: { cron: "0 6 * * *", catchup: last }
stages:
  extract:
    uses: command
    with: { run: 'echo x >> upstream.log' }
  load:
    uses: sql
    with: { query: "select 42 as n" }
  side:
    uses: sql
    needs: [load]
    with: { query: "select 1 as s" }
  wait_ready:
    uses: gate
    needs: [extract, load]
    with: { condition: "flags.ready == true", timeout: 2d }
  publish:
    uses: sql
    needs: [wait_ready]
    with: { query: "select n from load" }
    sets:
      published: true
      n: { sql: "select n::INTEGER from publish" }
      done: { value: yes, key: "{{ pipeline.name }}-1", scope: global }
`;

function setup(yaml = DOCS, start = '2026-06-06T09:00:00Z') {
  const root = mkdtempSync(join(tmpdir(), 'weir-gates-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'pipelines'));
  writeFileSync(join(root, 'pipelines', 'docs.yml'), yaml);
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/docs.yml', { kinds: defaultStageKinds(), fileExists: () => true });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const clock = { at: Date.parse(start) };
  /**
   * The ledger as one process sees it (same folder, own store object): each handle is its own host,
   * so two handles are two owners, judged alive by the test's clock.
   */
  let hosts = 0;
  const handle = (wrap: (store: LedgerStore) => LedgerStore = (s) => s) => {
    const host = `host-${++hosts}`;
    const liveness = { host, now: () => clock.at, ttlMs: 60_000, isPidAlive: () => true };
    const ledger = wrap(new FsLedgerStore(join(root, '.weir', 'ledger'), { liveness }));
    return createLocalRunDeps({ root, env: {} }, { ledger, host: { hostname: host, pid: 4242 }, clock: { now: () => clock.at, sleep: async () => {}, random: () => 0.5 } });
  };
  const deps = handle();
  const request = (extra: Partial<RunRequest> = {}): RunRequest => ({ pipeline: pipeline!, root, kinds: defaultStageKinds(), warn: () => {}, ...extra });
  const upstreamRuns = () => readFileSync(join(root, 'upstream.log'), 'utf8').trim().split('\n').length;
  const setReady = (value: unknown = true) => deps.ledger.setFlags([{ scope: 'docs', name: 'ready', value, by: 'ada', at: new Date(clock.at).toISOString() }]);
  return { root, clock, deps, handle, request, upstreamRuns, setReady };
}

describe('gate stages', () => {
  it('pass at once when the condition is met, and the run records the sets: of its stages as flags', async () => {
    const { deps, request, setReady } = setup();
    await setReady();
    const summary = await runPipeline(request(), deps);
    expect(summary.record.status).toBe('succeeded');
    expect(summary.record.stages.wait_ready).toMatchObject({ status: 'succeeded', outputs: { met: true } });
    const at = summary.record.finishedAt;
    expect(await deps.ledger.readFlags('docs')).toEqual([
      { scope: 'docs', name: 'n', value: 42, by: `run ${summary.runId}`, at },
      { scope: 'docs', name: 'published', value: true, by: `run ${summary.runId}`, at },
      { scope: 'docs', name: 'ready', value: true, by: 'ada', at: new Date(Date.parse('2026-06-06T09:00:00Z')).toISOString() },
    ]);
    expect(await deps.ledger.readFlags(GLOBAL_FLAG_SCOPE)).toEqual([{ scope: GLOBAL_FLAG_SCOPE, name: 'done', key: 'docs-1', value: 'yes', by: `run ${summary.runId}`, at }]);
  });

  it('park the run when not met: other branches finish, the run is waiting with its lease released, nothing committed; the next trigger continues it without re-running upstream', async () => {
    const { deps, request, clock, upstreamRuns, setReady, root } = setup();
    const parked = await runPipeline(request(), deps);
    expect(parked.record).toMatchObject({
      status: 'waiting',
      parkedAt: new Date(clock.at).toISOString(),
      waitingOn: ['wait_ready'],
      stages: { extract: { status: 'succeeded' }, load: { status: 'succeeded' }, side: { status: 'succeeded' }, wait_ready: { status: 'waiting' }, publish: { status: 'pending' } },
    });
    expect(parked.record.finishedAt).toBeUndefined();
    expect(await deps.ledger.listLeases('docs')).toEqual([]);
    expect(await deps.ledger.readFlags('docs')).toEqual([]);
    const history = await readHistory({ target: 'docs', limit: 20 }, { ledger: deps.ledger, isPipeline: async () => true });
    expect(history.kind === 'runs' && history.runs.map((r) => [r.runId, r.status])).toEqual([[parked.runId, 'waiting']]);

    // A trigger before the flag is set: the run stays parked, still from when it first parked.
    clock.at += DAY_MS;
    const again = await runPipeline(request(), deps);
    expect(again.runId).toBe(parked.runId);
    expect(again.record).toMatchObject({ status: 'waiting', parkedAt: parked.record.parkedAt });

    await setReady();
    clock.at += 60_000;
    const done = await runPipeline(request({ trigger: 'manual' }), deps);
    expect(done.runId).toBe(parked.runId);
    expect(done.record.status).toBe('succeeded');
    expect(done.record.stages.publish).toMatchObject({ status: 'succeeded', rows: 1 });
    expect(done.record.resumes?.map((r) => r.trigger)).toEqual(['manual', 'manual']);
    expect(upstreamRuns()).toBe(1);
    expect((await deps.ledger.listRuns({ pipeline: 'docs' })).map((r) => [r.runId, r.status])).toEqual([[parked.runId, 'succeeded']]);
    expect((await deps.ledger.readFlags('docs')).map((f) => f.name)).toEqual(['n', 'published', 'ready']);
  });

  it('fail with gate_timeout once the run has been parked longer than the timeout; the stages behind it never run and nothing is set', async () => {
    const { deps, request, clock } = setup();
    const parked = await runPipeline(request(), deps);
    clock.at += 2 * DAY_MS - 1;
    expect((await runPipeline(request(), deps)).record.status).toBe('waiting');
    clock.at += 1;
    const timedOut = await runPipeline(request(), deps);
    expect(timedOut.runId).toBe(parked.runId);
    expect(timedOut.record.status).toBe('failed');
    expect(timedOut.record.stages.wait_ready).toMatchObject({ status: 'failed', error: { code: 'gate_timeout' } });
    expect(timedOut.record.stages.wait_ready.error?.message).toMatch(/was still not met 48h after the run parked \(timeout 48h\).*weir flags set/);
    expect(timedOut.record.stages.wait_ready.attempts).toHaveLength(3);
    expect(timedOut.record.stages.publish).toMatchObject({ status: 'skipped', skipReason: 'upstream_failed' });
    expect(await deps.ledger.readFlags('docs')).toEqual([]);
  });

  it('close a waiting gate when another stage fails: the run fails, and the sets: of stages that succeeded are not applied', async () => {
    const yaml = `name: docs
stages:
  marks:
    uses: sql
    with: { query: "select 1 as x" }
    sets: { marked: true }
  broken:
    uses: sql
    with: { query: "select * from no_such_table" }
  wait_ready:
    uses: gate
    with: { condition: "flags.ready == true" }
`;
    const { deps, request } = setup(yaml);
    const summary = await runPipeline(request(), deps);
    expect(summary.record.status).toBe('failed');
    expect(summary.record.stages.marks.status).toBe('succeeded');
    expect(summary.record.stages.wait_ready).toMatchObject({ status: 'cancelled', skipDetail: 'the run failed while the gate waited' });
    expect(await deps.ledger.readFlags('docs')).toEqual([]);
    expect(await deps.ledger.listRuns({ pipeline: 'docs', unfinished: true })).toEqual([]);
  });

  it('resume met after another pipeline\'s stage set the flag for this one (sets: scope), when that run succeeded', async () => {
    const { deps, request, root, upstreamRuns } = setup();
    const parked = await runPipeline(request(), deps);
    const producerYaml = `name: producer
stages:
  convert:
    uses: sql
    with: { query: "select 1 as ok" }
    sets: { ready: { value: true, scope: docs } }
`;
    const producer = loadPipelineSource(producerYaml, 'pipelines/producer.yml', { kinds: defaultStageKinds(), fileExists: () => true }).pipeline!;
    expect((await runPipeline({ pipeline: producer, root, kinds: defaultStageKinds(), warn: () => {} }, deps)).record.status).toBe('succeeded');
    expect(await deps.ledger.readFlags('docs')).toMatchObject([{ scope: 'docs', name: 'ready', value: true, by: expect.stringMatching(/^run /) }]);
    const done = await runPipeline(request(), deps);
    expect([done.runId, done.record.status]).toEqual([parked.runId, 'succeeded']);
    expect(upstreamRuns()).toBe(1);
  });

  it('read flags per key: a keyed flag for the gate key wins over the unkeyed one', async () => {
    const yaml = `name: docs
params:
  doc: { type: string, default: d1 }
stages:
  wait_doc:
    uses: gate
    with: { condition: "flags.ready == true", key: "{{ params.doc }}" }
`;
    const { deps, request } = setup(yaml);
    const at = '2026-06-06T09:00:00.000Z';
    await deps.ledger.setFlags([
      { scope: GLOBAL_FLAG_SCOPE, name: 'ready', value: true, by: 'ada', at },
      { scope: 'docs', name: 'ready', key: 'd1', value: false, by: 'ada', at },
    ]);
    expect((await runPipeline(request(), deps)).record.status).toBe('waiting');
    await deps.ledger.setFlags([{ scope: 'docs', name: 'ready', key: 'd1', value: true, by: 'ada', at }]);
    expect((await runPipeline(request(), deps)).record.status).toBe('succeeded');
  });
});

describe('resuming parked runs', () => {
  it('lets exactly one of two resumers continue the run; the other fails with run_conflict and runs nothing', async () => {
    const { deps, handle, request, setReady, upstreamRuns } = setup();
    const parked = await runPipeline(request(), deps);
    await setReady();
    let releaseA!: () => void;
    const holdA = new Promise<void>((resolve) => (releaseA = resolve));
    // A takes the lease, then waits until B has tried.
    const a = handle((store) => withOverrides(store, { acquireLease: async (...args: Parameters<LedgerStore['acquireLease']>) => {
      const result = await store.acquireLease(...args);
      await holdA;
      return result;
    } }));
    const runA = runPipeline(request(), a);
    while ((await deps.ledger.listLeases('docs')).length === 0) await new Promise((resolve) => setImmediate(resolve));
    await expect(runPipeline(request(), handle())).rejects.toThrow(RunConflictError);
    releaseA();
    const won = await runA;
    expect([won.runId, won.record.status]).toEqual([parked.runId, 'succeeded']);
    expect(upstreamRuns()).toBe(1);
  });

  it('refuses a resumer that found the run parked but got the lease after another resumer finished it', async () => {
    const { deps, handle, request, setReady } = setup();
    const parked = await runPipeline(request(), deps);
    await setReady();
    let releaseB!: () => void;
    let bFoundIt!: () => void;
    const holdB = new Promise<void>((resolve) => (releaseB = resolve));
    const found = new Promise<void>((resolve) => (bFoundIt = resolve));
    // B finds the parked run, then stops until the other resumer has finished it.
    const b = handle((store) => withOverrides(store, { listRuns: async (...args: Parameters<LedgerStore['listRuns']>) => {
      const runs = await store.listRuns(...args);
      if (args[0]?.unfinished && runs.some((r) => r.status === 'waiting')) {
        bFoundIt();
        await holdB;
      }
      return runs;
    } }));
    const runB = runPipeline(request(), b);
    await found;
    expect((await runPipeline(request(), handle())).record.status).toBe('succeeded');
    releaseB();
    await expect(runB).rejects.toThrow(new RegExp(`run ${parked.runId} of 'docs' is no longer parked \\(it is succeeded\\)`));
  });

  it('closes a parked run whose folder is gone as abandoned, saying why, so the next trigger starts afresh', async () => {
    const { deps, request, root, setReady, upstreamRuns } = setup();
    const parked = await runPipeline(request(), deps);
    rmSync(join(root, '.weir', 'runs', 'docs', parked.runId), { recursive: true });
    const warnings: string[] = [];
    const closed = await runPipeline(request({ warn: (m) => warnings.push(m) }), deps);
    expect(closed.record).toMatchObject({ runId: parked.runId, status: 'abandoned', error: { code: 'abandoned' }, stages: { wait_ready: { status: 'cancelled' }, publish: { status: 'cancelled' } } });
    expect(warnings[0]).toMatch(/could not resume: its run folder .* is not on this machine/);
    await setReady();
    const fresh = await runPipeline(request(), deps);
    expect(fresh.runId).not.toBe(parked.runId);
    expect(fresh.record.status).toBe('succeeded');
    expect(upstreamRuns()).toBe(2);
  });

  it('on a schedule trigger, resumes the parked run first and starts no new interval while it stays parked', async () => {
    const { deps, request, clock, setReady, upstreamRuns } = setup();
    const trigger = () => runScheduled({ ...request() }, deps);
    const first = await trigger();
    expect(first.outcome === 'ran' && first.runs.map((r) => r.record.status)).toEqual(['waiting']);
    clock.at += DAY_MS;
    const second = await trigger();
    expect(second.outcome === 'ran' && second.runs.map((r) => [r.runId, r.record.status])).toEqual([[first.outcome === 'ran' && first.runs[0].runId, 'waiting']]);
    expect(upstreamRuns()).toBe(1);
    await setReady();
    const third = await trigger();
    // The parked run completes; then the interval due since (the next day) runs, its gate met at once.
    expect(third.outcome === 'ran' && third.runs.map((r) => [r.record.trigger, r.record.status])).toEqual([['schedule', 'succeeded'], ['schedule', 'succeeded']]);
    expect(upstreamRuns()).toBe(2);
  });
});
