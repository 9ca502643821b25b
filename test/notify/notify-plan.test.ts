/** Which notifications a run sends (pure): stage rules, their dedup with the pipeline's, SLA breaches once. */
import { describe, expect, it } from 'vitest';
import type { PipelineSpec } from '../../src/model/pipeline.ts';
import type { RunRecord, SlaBreachRecord } from '../../src/ledger/run-record.ts';
import { decideStageEvents, planAfterRun, planBreach } from '../../src/use-cases/notify-plan.ts';
import { buildMessage } from '../../src/notify/message.ts';

const record = (overrides: Partial<RunRecord> = {}): RunRecord => ({
  runId: 'r1', pipeline: 'p', status: 'failed', trigger: 'manual', params: {}, interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' }, startedAt: '2026-12-01T06:00:00.000Z', durationMs: 1500,
  stages: {
    load: { status: 'succeeded', attempts: [], deadLetters: { count: 2, total: 10 } },
    clean: { status: 'failed', attempts: [], error: { code: 'stage_failed', name: 'StageFailedError', message: 'no table x' } },
  },
  ...overrides,
});

const spec = (fields: Record<string, unknown>, stages: Record<string, Record<string, unknown>> = {}): PipelineSpec =>
  ({ version: 1, name: 'p', ...fields, stages: { load: { uses: 'sql', ...stages.load }, clean: { uses: 'sql', ...stages.clean } } }) as PipelineSpec;

const stageBreach: SlaBreachRecord = { scope: 'stage', stage: 'load', at: '2026-12-01T06:05:00.000Z', slaMs: 60_000, elapsedMs: 90_000 };

describe('stage notify rules', () => {
  it("derives a stage's own events from its record", () => {
    expect(decideStageEvents(record(), 'load')).toEqual(['success', 'dead_letters']);
    expect(decideStageEvents(record(), 'clean')).toEqual(['failure']);
    expect(decideStageEvents(record(), 'gone')).toEqual([]);
  });

  it("sends a stage's events to its channels, leaving out what the pipeline's own message already sends to the same channel", () => {
    const planned = planAfterRun(
      spec({ notify: { on: ['failure'], to: ['team'] } }, { load: { notify: { on: ['success', 'dead_letters'], to: ['team', 'data'] } }, clean: { notify: [{ on: ['failure'], to: ['team', 'oncall'] }, { on: ['failure'], to: ['oncall'] }] } }),
      record(),
      undefined,
    );
    expect(planned.map((p) => [p.event, p.channel, p.stage])).toEqual([
      ['failure', 'team', undefined],
      ['success', 'team', 'load'],
      ['success', 'data', 'load'],
      ['dead_letters', 'team', 'load'],
      ['dead_letters', 'data', 'load'],
      // clean's failure to team is the pipeline's failure message (it names the failed stage); oncall gets it once.
      ['failure', 'oncall', 'clean'],
    ]);
  });

  it('sends nothing again that the record shows sent', () => {
    const sent = record({ notifications: [{ channel: 'data', event: 'success', status: 'sent', at: 'x', stage: 'load' }] });
    const planned = planAfterRun(spec({}, { load: { notify: { on: ['success'], to: ['data'] } } }), sent, undefined);
    expect(planned).toEqual([]);
  });

  it('builds a message about the one stage: its headline, its status and only its details', () => {
    const message = buildMessage(record(), 'dead_letters', { stage: 'load' });
    expect(message).toMatchObject({ headline: 'Stage load of pipeline p: records were set aside as dead letters', status: 'succeeded', stage: 'load', details: ['stage load: 2 of 10 records set aside as dead letters'] });
    expect(message.failedStage).toBeUndefined();
    expect(buildMessage(record(), 'failure', { stage: 'clean' }).failedStage).toMatchObject({ name: 'clean', error: { message: 'no table x' } });
  });
});

describe('SLA breach notifications', () => {
  it("sends a stage's breach once per channel named by the pipeline's or the stage's sla_breach rules", () => {
    const planned = planBreach(spec({ notify: [{ on: ['failure', 'sla_breach'], to: ['team'] }] }, { load: { notify: { on: ['sla_breach'], to: ['team', 'oncall'] } } }), record(), stageBreach);
    expect(planned.map((p) => [p.event, p.channel, p.stage])).toEqual([
      ['sla_breach', 'team', 'load'],
      ['sla_breach', 'oncall', 'load'],
    ]);
  });

  it("does not send a breach to another stage's rules, nor one the record shows attempted, even after the run", () => {
    const rules = spec({}, { clean: { notify: { on: ['sla_breach'], to: ['oncall'] } }, load: { notify: { on: ['sla_breach'], to: ['data'] } } });
    expect(planBreach(rules, record(), stageBreach).map((p) => p.channel)).toEqual(['data']);
    const attempted = record({ slaBreaches: [stageBreach], notifications: [{ channel: 'data', event: 'sla_breach', status: 'failed', at: 'x', stage: 'load' }] });
    expect(planAfterRun(rules, attempted, undefined).filter((p) => p.event === 'sla_breach')).toEqual([]);
    // Not attempted during the run (no notifier then): sent after it.
    expect(planAfterRun(rules, record({ slaBreaches: [stageBreach] }), undefined).map((p) => [p.event, p.channel, p.stage])).toEqual([['sla_breach', 'data', 'load']]);
  });

  it('says which SLA, by how much and what to do', () => {
    const message = buildMessage(record({ status: 'running', durationMs: undefined }), 'sla_breach', { breach: { scope: 'start', at: '2026-12-01T08:00:00.000Z', slaMs: 30 * 60_000, elapsedMs: 150 * 60_000 } });
    expect(message.headline).toBe('Pipeline p missed its SLA: the run started 2h30m after its scheduled tick (SLA 30m)');
    expect(message.sla).toMatchObject({ scope: 'start', overMs: 120 * 60_000 });
    expect(message.details[0]).toBe('SLA: the run was due to finish 30m after its tick; 2h over when detected at 2026-12-01T08:00:00.000Z');
    expect(message.details[1]).toMatch(/^What to do: the scheduled trigger came late or was missed .*'weir status p'/);
  });
});
