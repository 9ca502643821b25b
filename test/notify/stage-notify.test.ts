/**
 * Stage notify rules through the whole run use case (sla branch): real DuckDB, a real webhook
 * server on loopback. A stage's rule sends a message about that stage; the pipeline's own message
 * for the same event and channel covers it (one message per run, event, channel and stage).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { readChannels } from '../../src/notify/channel-config.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { runPipeline } from '../../src/use-cases/run-pipeline.ts';
import { startHookServer } from './servers.ts';

async function run(yaml: string, env: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'weir-stage-notify-'));
  onTestFinished(() => rmSync(root, { recursive: true, force: true }));
  const { channels } = readChannels({ audit: { type: 'webhook', url_env: 'HOOK_URL' }, oncall: { type: 'webhook', url_env: 'ONCALL_URL' } });
  const { pipeline, diagnostics } = loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true, channels: Object.keys(channels) });
  expect(diagnostics).toEqual([]);
  const deps = createLocalRunDeps({ root, env }, { clock: { now: Date.now, sleep: async () => undefined, random: () => 0.5 } });
  return runPipeline({ pipeline: pipeline!, root, kinds: defaultStageKinds(), channels }, deps);
}

describe('stage notify rules', () => {
  it("sends a stage's failure with that stage's error, and leaves to the pipeline's message what it already sends to the same channel", async () => {
    const hooks = await startHookServer();
    const { record, runId } = await run(
      `name: p
notify: { on: [failure], to: [audit] }
stages:
  extract:
    uses: sql
    with: { query: "select 1 as n" }
    notify: { on: [success], to: [oncall] }
  clean:
    uses: sql
    needs: [extract]
    with: { query: "select * from missing_table" }
    notify: { on: [failure], to: [audit, oncall] }
`,
      { HOOK_URL: `${hooks.url}/audit`, ONCALL_URL: `${hooks.url}/oncall` },
    );
    expect(record.status).toBe('failed');
    expect(record.notifications?.map((n) => [n.event, n.channel, n.stage, n.status])).toEqual([
      ['failure', 'audit', undefined, 'sent'],
      ['success', 'oncall', 'extract', 'sent'],
      ['failure', 'oncall', 'clean', 'sent'],
    ]);
    const byPath = (path: string) => hooks.posts.filter((post) => post.path === path).map((post) => JSON.parse(post.body));
    expect(byPath('/audit').map((e) => [e.id, e.data.headline])).toEqual([[`${runId}:failure:audit`, 'Pipeline p failed']]);
    const [success, failure] = byPath('/oncall');
    expect(success).toMatchObject({ id: `${runId}:success:oncall:extract`, data: { headline: 'Stage extract of pipeline p succeeded', stage: 'extract', status: 'succeeded' } });
    expect(failure).toMatchObject({ id: `${runId}:failure:oncall:clean`, data: { headline: 'Stage clean of pipeline p failed', stage: 'clean', status: 'failed', failedStage: { name: 'clean' } } });
    expect(failure.data.failedStage.error.message).toMatch(/missing_table/);
  });
});
