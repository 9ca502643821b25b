import type { ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FsLedgerStore } from '../../src/ledger/fs-ledger-store.ts';
import { STEP_SUMMARY_BUDGET_BYTES } from '../../src/report/run-summary.ts';
import { weir } from '../cli/helpers.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const API_TOKEN = 'tok-3f9a1c77e2';
const OTHER_SECRET = 'other-b81d4e0c';

const PIPELINE = `name: hello
params:
  days: { type: integer, default: 1 }
  base: { type: string, default: EUR }
stages:
  rates:
    uses: sql
    with: { query: pipelines/sql/rates.sql }
    checks: [ { not_null: [rate] }, { row_count: { min: 1 } } ]
  shout:
    uses: command
    needs: [rates]
    with: { run: "echo days={{ params.days }} token={{ env.API_TOKEN }} other=$OTHER_SECRET" }
`;

const GITHUB_CONTEXT = {
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REF: 'refs/heads/main',
  GITHUB_EVENT_NAME: 'workflow_dispatch',
  GITHUB_ACTOR: 'octocat',
  GITHUB_REPOSITORY: 'acme/data',
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '4242',
  GITHUB_RUN_ATTEMPT: '2',
};

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function project(pipeline = PIPELINE): string {
  return tempFolder({ 'pipelines/hello.yml': pipeline, 'pipelines/sql/rates.sql': 'select 1.5 as rate, {{ params.days }} as days' });
}

describe('command: run, run as the runner runs dist/index.js', () => {
  it('runs a dispatched pipeline with typed params, records its provenance, sets outputs and writes a summary within budget', async () => {
    const workspace = project();
    const result = await runBundle(workspace, {
      inputs: { command: 'run', pipeline: 'hello', params: '{ "days": 3 }', date: '2026-11-30', secrets: 'OTHER_SECRET' },
      env: { ...GITHUB_CONTEXT, API_TOKEN, OTHER_SECRET },
      event: { inputs: { days: '3' } },
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.outputs.status).toBe('succeeded');
    expect(result.outputs['report-artifact']).toBe('');
    const runId = result.outputs['run-id'];
    const record = await new FsLedgerStore(join(workspace, '.weir', 'ledger')).getRun(runId);
    expect(record).toMatchObject({ status: 'succeeded', trigger: 'manual', params: { days: 3, base: 'EUR' }, interval: { start: '2026-11-30T00:00:00.000Z' } });
    expect(record?.provenance).toEqual({
      commit: GITHUB_CONTEXT.GITHUB_SHA,
      ref: 'refs/heads/main',
      event: 'workflow_dispatch',
      actor: 'octocat',
      workflowRunUrl: 'https://github.com/acme/data/actions/runs/4242',
      runAttempt: 2,
      files: { 'pipelines/hello.yml': sha256(PIPELINE), 'pipelines/sql/rates.sql': sha256(readFileSync(join(workspace, 'pipelines/sql/rates.sql'), 'utf8')) },
    });
    expect(Buffer.byteLength(result.summary)).toBeLessThanOrEqual(STEP_SUMMARY_BUDGET_BYTES);
    expect(result.summary).toContain('## weir run: hello ✅ succeeded');
    expect(result.summary).toContain('class s_rates succeeded');
    expect(result.summary).toContain('classDef succeeded');
    expect(result.summary).toMatch(/\| rates \| ✅ succeeded \| [^|]+ \| 1 \| 1 \| 2\/2 \|  \|/);
    expect(result.summary).toContain('[workflow run](https://github.com/acme/data/actions/runs/4242)');
    expect(result.stdout).toMatch(/::group::rates: ✔ rates[^\n]*\n(.*\n)*?::endgroup::/);
    expect(result.stdout).toMatch(/::group::shout: [^\n]*\n(.*\n)*?days=3 token=\*\*\* other=/);
    expect(JSON.parse(result.outputs.matrix).include.map((s: { stage: string }) => s.stage)).toEqual(['rates', 'shout']);
    const history = await weir(workspace, ['history', runId, '--json']);
    expect(JSON.parse(history.stdout).provenance.commit).toBe(GITHUB_CONTEXT.GITHUB_SHA);
  });

  it('masks every secret the pipeline reads and each one named in secrets before any stage output', async () => {
    const workspace = project();
    const result = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello', secrets: 'OTHER_SECRET' }, env: { ...GITHUB_CONTEXT, API_TOKEN, OTHER_SECRET, GITHUB_TOKEN: 'ghs_unused' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    for (const secret of [API_TOKEN, OTHER_SECRET]) {
      const mask = lines.indexOf(`::add-mask::${secret}`);
      expect(mask, `${secret} is masked`).toBeGreaterThanOrEqual(0);
      expect(mask).toBeLessThan(lines.findIndex((line) => line.startsWith('::group::')));
      const firstShown = lines.findIndex((line) => line.includes(secret) && !line.startsWith('::add-mask::'));
      if (firstShown >= 0) expect(mask).toBeLessThan(firstShown);
    }
    // The template-read token never shows at all: weir redacts it before the runner sees the line.
    expect(lines.filter((line) => line.includes(API_TOKEN) && !line.startsWith('::add-mask::'))).toEqual([]);
    // The runner masks its log, not the summary file: weir redacts both secrets there itself.
    expect(result.summary).toContain('days=1 token=*** other=***');
    expect(result.summary).not.toContain(OTHER_SECRET);
  });

  it('fails the step with status failed when a stage fails, and records the scheduled run', async () => {
    const workspace = project(PIPELINE.replace('echo days', 'exit 3; echo days'));
    const result = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello' }, env: { ...GITHUB_CONTEXT, GITHUB_EVENT_NAME: 'schedule' } });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('failed');
    expect(result.stdout).toContain('::error::weir run: hello: failed; see the job summary');
    expect(result.summary).toContain('class s_shout failed');
    const record = await new FsLedgerStore(join(workspace, '.weir', 'ledger')).getRun(result.outputs['run-id']);
    expect(record).toMatchObject({ status: 'failed', trigger: 'schedule', provenance: { event: 'schedule' } });
  });

  it('refuses params that are not a map, and a param the pipeline does not declare, before anything runs', async () => {
    const workspace = project();
    const list = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello', params: '[1, 2]' } });
    expect(list.code).toBe(1);
    expect(list.stdout).toContain("::error::weir: input 'params': must be a map of param names to values");
    const unknown = await runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello', params: 'dayz: 2' } });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("has no param 'dayz' (did you mean 'days'?)");
    expect(await new FsLedgerStore(join(workspace, '.weir', 'ledger')).listRuns({ pipeline: 'hello', limit: 5 })).toEqual([]);
  });

  it('records the run cancelled when the runner sends SIGINT (its cancel), with the stopped stage cancelled', async () => {
    const workspace = project(PIPELINE.replace('echo days', 'touch started && exec sleep 30; echo days'));
    let child: ChildProcess | undefined;
    const running = runBundle(workspace, { inputs: { command: 'run', pipeline: 'hello' }, env: { ...GITHUB_CONTEXT, API_TOKEN }, onSpawn: (spawned) => (child = spawned) });
    // Waits for a condition (the stage has started), not for a length of time.
    while (!existsSync(join(workspace, 'started')) && child?.exitCode == null) await new Promise((tick) => setTimeout(tick, 25));
    child!.kill('SIGINT');
    const result = await running;
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('cancelled');
    const record = await new FsLedgerStore(join(workspace, '.weir', 'ledger')).getRun(result.outputs['run-id']);
    expect(record).toMatchObject({ status: 'cancelled', stages: { rates: { status: 'succeeded' }, shout: { status: 'cancelled' } } });
    expect(result.summary).toContain('class s_shout cancelled');
  });
});
