/**
 * SLAs through the whole run use case, on a clock the test moves: a stage that waits on a promise
 * the test releases is still running when the run's and the stage's SLAs pass, so the breaches (and
 * their notifications to a real webhook server on loopback) must come from the timer, mid-run. Real
 * DuckDB, real HTTP; no wall-clock waits decide anything.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { z } from 'zod';
import type { RunEvent } from '../../src/model/events.ts';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { MemoryLedgerStore } from '../../src/ledger/memory-ledger-store.ts';
import { readChannels } from '../../src/notify/channel-config.ts';
import { defaultStageKinds, type AnyStageKind, type StageKindRegistry } from '../../src/stages/registry.ts';
import { runPipeline } from '../../src/use-cases/run-pipeline.ts';
import { runScheduled } from '../../src/use-cases/scheduled-run.ts';
import { readStatus } from '../../src/use-cases/status.ts';
import { renderStatusTable } from '../../src/report/ledger-views.ts';
import { startHookServer } from '../notify/servers.ts';
import { createManualClock } from '../support/manual-clock.ts';

const MIN = 60_000;
const T0 = Date.parse('2026-12-01T06:00:00Z');

/** A stage kind that holds until the test releases it: the run is provably still going meanwhile. */
function holdingKinds() {
  const gates = new Map<string, () => void>();
  const hold: AnyStageKind = {
    name: 'hold',
    summary: 'Waits until the test releases it.',
    with: z.strictObject({ gate: z.string() }),
    producesTable: false,
    run: (_ctx, config: { gate: string }) => new Promise((resolve) => gates.set(config.gate, () => resolve({ outputs: { released: true } }))),
  };
  const kinds: StageKindRegistry = new Map([...defaultStageKinds(), ['hold', hold]]);
  const release = (gate: string) => {
    const open = gates.get(gate);
    if (!open) throw new Error(`stage with gate ${gate} is not waiting`);
    open();
  };
  return { kinds, release };
}

function project(yaml: string, channels: Record<string, unknown> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'weir-sla-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const { kinds, release } = holdingKinds();
  const read = readChannels(channels);
  expect(read.issues).toEqual([]);
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds, fileExists: () => true, channels: Object.keys(read.channels) });
  expect(diagnostics).toEqual([]);
  mkdirSync(join(root, 'pipelines'));
  writeFileSync(join(root, 'pipelines', 'p.yml'), yaml);
  const clock = createManualClock(T0);
  const ledger = new MemoryLedgerStore();
  const events: RunEvent[] = [];
  const makeDeps = (env: Record<string, string>) => createLocalRunDeps({ root, env }, { ledger, clock });
  const start = (env: Record<string, string> = {}) => runPipeline({ pipeline: pipeline!, root, kinds, channels: read.channels, listeners: [(e) => events.push(e)] }, makeDeps(env));
  const startedStage = (stage: string) => vi.waitFor(() => expect(events.some((e) => e.type === 'stage.started' && e.stage === stage)).toBe(true), { timeout: 30_000, interval: 5 });
  return { root, pipeline: pipeline!, kinds, clock, ledger, events, release, start, startedStage, makeDeps, channels: read.channels };
}

const breachesOf = (events: readonly RunEvent[]) => events.filter((e) => e.type === 'sla.breached');

describe('SLA breaches while the run goes', () => {
  it("raises the stage's and the run's breach from the timer while a stage still runs, and the webhook receives both before it ends", async () => {
    const hooks = await startHookServer();
    const p = project(
      `name: p
sla: 10m
notify: { on: [sla_breach], to: [audit] }
stages:
  first: { uses: sql, with: { query: "select 1 as n" } }
  slow: { uses: hold, needs: [first], sla: 5m, with: { gate: g } }
`,
      { audit: { type: 'webhook', url_env: 'HOOK_URL' } },
    );
    const running = p.start({ HOOK_URL: `${hooks.url}/hook` });
    await p.startedStage('slow');

    await p.clock.advance(4 * MIN);
    expect(breachesOf(p.events)).toEqual([]);
    await p.clock.advance(2 * MIN); // 6 min: the stage (5m) is past its SLA, the run (10m) is not
    await vi.waitFor(() => expect(hooks.posts).toHaveLength(1), { timeout: 30_000, interval: 5 });
    await p.clock.advance(5 * MIN); // 11 min: the run is past its SLA too
    await vi.waitFor(() => expect(hooks.posts).toHaveLength(2), { timeout: 30_000, interval: 5 });

    // Still running: the stage has not ended, yet both breaches and both sends are recorded.
    expect(p.events.some((e) => e.type === 'stage.succeeded' && e.stage === 'slow')).toBe(false);
    expect(breachesOf(p.events)).toMatchObject([
      { scope: 'stage', stage: 'slow', slaMs: 5 * MIN, elapsedMs: 6 * MIN, at: new Date(T0 + 6 * MIN).toISOString() },
      { scope: 'run', slaMs: 10 * MIN, elapsedMs: 11 * MIN, at: new Date(T0 + 11 * MIN).toISOString() },
    ]);
    await vi.waitFor(() => expect(p.events.filter((e) => e.type === 'notify.sent')).toHaveLength(2), { timeout: 30_000, interval: 5 });

    const [stageHook, runHook] = hooks.posts.map((post) => JSON.parse(post.body));
    expect(stageHook).toMatchObject({ type: 'dev.weir.run.sla_breach', data: { status: 'running', stage: 'slow', sla: { scope: 'stage', stage: 'slow', slaMs: 5 * MIN, elapsedMs: 6 * MIN, overMs: MIN } } });
    expect(stageHook.id).toMatch(/:sla_breach:audit:slow$/);
    expect(stageHook.data.headline).toBe('Pipeline p missed its SLA: stage slow ran 6m (SLA 5m)');
    expect(runHook).toMatchObject({ data: { status: 'running', sla: { scope: 'run', overMs: MIN } } });
    expect(runHook.data.headline).toBe('Pipeline p missed its SLA: the run took 11m (SLA 10m)');
    expect(runHook.data.details.join('\n')).toMatch(/What to do: the run is slower than expected \(running now: slow\): 'weir history .*' shows its stages and logs; if it now takes longer for good, raise sla/);

    p.release('g');
    const { record, runId } = await running;
    expect(record.status).toBe('succeeded');
    expect(record.slaBreaches).toEqual([
      { scope: 'stage', stage: 'slow', at: new Date(T0 + 6 * MIN).toISOString(), slaMs: 5 * MIN, elapsedMs: 6 * MIN },
      { scope: 'run', at: new Date(T0 + 11 * MIN).toISOString(), slaMs: 10 * MIN, elapsedMs: 11 * MIN },
    ]);
    expect(record.notifications?.map((n) => [n.event, n.channel, n.stage, n.status])).toEqual([
      ['sla_breach', 'audit', 'slow', 'sent'],
      ['sla_breach', 'audit', undefined, 'sent'],
    ]);
    // Once: the end of the stage and of the run past their SLAs add nothing, and nothing is sent again after the run.
    expect(breachesOf(p.events)).toHaveLength(2);
    expect(hooks.posts).toHaveLength(2);
    expect((await p.ledger.getRun(runId))?.slaBreaches).toEqual(record.slaBreaches);
    expect(p.clock.sleepers).toBe(0);
  });

  it('records no breach and sends nothing when the run and its stages end within their SLAs', async () => {
    const hooks = await startHookServer();
    const p = project(
      `name: p
sla: 10m
notify: { on: [sla_breach], to: [audit] }
stages:
  slow: { uses: hold, sla: 5m, with: { gate: g } }
`,
      { audit: { type: 'webhook', url_env: 'HOOK_URL' } },
    );
    const running = p.start({ HOOK_URL: `${hooks.url}/hook` });
    await p.startedStage('slow');
    await p.clock.advance(5 * MIN); // exactly at the stage's SLA: not past it
    p.release('g');
    const { record } = await running;
    expect(record.status).toBe('succeeded');
    expect(record.slaBreaches).toBeUndefined();
    expect(record.notifications).toBeUndefined();
    expect(hooks.hits).toBe(0);
    expect(p.clock.sleepers).toBe(0);
  });

  it("records a failed breach notification without changing the run's result", async () => {
    const hooks = await startHookServer('error500');
    const p = project(
      `name: p
sla: 1m
notify: { on: [sla_breach], to: [audit] }
stages:
  slow: { uses: hold, with: { gate: g } }
`,
      { audit: { type: 'webhook', url_env: 'HOOK_URL', policy: { retries: 0 } } },
    );
    const running = p.start({ HOOK_URL: `${hooks.url}/hook` });
    await p.startedStage('slow');
    await p.clock.advance(2 * MIN);
    await vi.waitFor(() => expect(p.events.some((e) => e.type === 'notify.failed')).toBe(true), { timeout: 30_000, interval: 5 });
    p.release('g');
    const { record } = await running;
    expect(record.status).toBe('succeeded');
    expect(record.slaBreaches).toHaveLength(1);
    expect(record.notifications).toMatchObject([{ event: 'sla_breach', channel: 'audit', status: 'failed', attempts: 1 }]);
    expect(record.notifications![0]!.error?.message).toMatch(/sla_breach notification to channel 'audit' \(webhook\) failed after 1 attempt: POST .* answered HTTP 500/);
    expect(hooks.hits).toBe(1);
  });

  it("sends a stage's breach once to a channel both the pipeline's and the stage's rules name, and the stage rule's other channel too", async () => {
    const hooks = await startHookServer();
    const p = project(
      `name: p
notify: { on: [sla_breach], to: [audit] }
stages:
  slow:
    uses: hold
    sla: 30s
    with: { gate: g }
    notify: { on: [sla_breach], to: [audit, chat] }
`,
      { audit: { type: 'webhook', url_env: 'HOOK_URL' }, chat: { type: 'slack', webhook_url_env: 'SLACK_URL' } },
    );
    const running = p.start({ HOOK_URL: `${hooks.url}/hook`, SLACK_URL: `${hooks.url}/slack` });
    await p.startedStage('slow');
    await p.clock.advance(MIN);
    await vi.waitFor(() => expect(hooks.posts).toHaveLength(2), { timeout: 30_000, interval: 5 });
    p.release('g');
    const { record } = await running;
    expect(record.notifications?.map((n) => [n.event, n.channel, n.stage, n.status])).toEqual([
      ['sla_breach', 'audit', 'slow', 'sent'],
      ['sla_breach', 'chat', 'slow', 'sent'],
    ]);
    const slack = JSON.parse(hooks.posts.find((post) => post.path === '/slack')!.body);
    expect(slack.text).toContain('Pipeline p missed its SLA: stage slow ran 1m (SLA 30.0s)');
    expect(JSON.stringify(slack.blocks)).toContain('What to do: stage slow is slower than expected');
  });
});

describe('late start of a scheduled run', () => {
  it('records a start breach on each caught-up interval that began more than sla after its tick, none on the timely one, and weir status shows them', async () => {
    const p = project(`name: p
schedule: { cron: "17 * * * *", catchup: all, start_date: "2026-12-01T03:17:00Z" }
sla: 30m
stages:
  one: { uses: sql, with: { query: "select 1 as n" } }
`);
    // 06:27: ticks at 04:17, 05:17 and 06:17 are due; only the 06:17 one is within its 30 minutes.
    await p.clock.advance(27 * MIN);
    // Before a trigger comes: status already tells which due intervals are past their SLA.
    const before = await readStatus({ root: p.root, pipeline: 'p' }, { ledger: p.ledger, clock: () => new Date(p.clock.now()), kinds: p.kinds });
    if (!before.ok) throw new Error(before.message);
    expect(before.pipelines[0]!.due).toEqual({ count: 3, oldest: '2026-12-01T03:17:00.000Z', pastSla: 2 });
    expect(renderStatusTable(before.pipelines)).toContain('3 from 2026-12-01 03:17 (2 past sla)');
    const result = await runScheduled({ pipeline: p.pipeline, root: p.root, kinds: p.kinds }, p.makeDeps({}));
    if (result.outcome !== 'ran') throw new Error(result.outcome);
    expect(result.runs.map((run) => [run.record.tick, run.record.slaBreaches ?? []])).toEqual([
      ['2026-12-01T04:17:00.000Z', [{ scope: 'start', at: '2026-12-01T06:27:00.000Z', slaMs: 30 * MIN, elapsedMs: 130 * MIN }]],
      ['2026-12-01T05:17:00.000Z', [{ scope: 'start', at: '2026-12-01T06:27:00.000Z', slaMs: 30 * MIN, elapsedMs: 70 * MIN }]],
      ['2026-12-01T06:17:00.000Z', []],
    ]);
    // The late runs still ran and succeeded: a breach never changes a result.
    expect(result.runs.every((run) => run.record.status === 'succeeded')).toBe(true);

    const status = await readStatus({ root: p.root, pipeline: 'p' }, { ledger: p.ledger, clock: () => new Date(p.clock.now()), kinds: p.kinds });
    if (!status.ok) throw new Error(status.message);
    // The three runs started at the same (frozen) instant: which late one is "latest" is not asserted.
    expect(status.pipelines[0]!.slaBreaches).toMatchObject({ runs: 2, of: 3, latest: { scope: 'start', at: '2026-12-01T06:27:00.000Z', slaMs: 30 * MIN } });
    expect(renderStatusTable(status.pipelines)).toMatch(/sla\n[\s\S]*2 of last 3 runs \(start\)/);
  });
});
