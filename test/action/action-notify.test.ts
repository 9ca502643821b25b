/**
 * The Action notifies through weir.yml's channels and lists each outcome in the job summary (sla
 * branch): dist/index.js run as the runner runs it, a real webhook server on loopback.
 */
import { describe, expect, it } from 'vitest';
import { startHookServer } from '../notify/servers.ts';
import { runBundle, tempFolder } from './bundle-runner.ts';

const PIPELINE = `name: hello
notify: { on: [success], to: [audit] }
stages:
  rates:
    uses: sql
    with: { query: "select 1.5 as rate" }
    notify: { on: [success], to: [chat] }
`;

const WEIR_YML = `channels:
  audit: { type: webhook, url_env: HOOK_URL }
  chat: { type: slack, webhook_url_env: SLACK_URL }
`;

describe('command: run, notifications', () => {
  it("sends the run's and the stage's notifications and lists them, sent or skipped, in the job summary", async () => {
    const hooks = await startHookServer();
    const workspace = tempFolder({ 'pipelines/hello.yml': PIPELINE, 'weir.yml': WEIR_YML });
    const result = await runBundle(workspace, {
      inputs: { command: 'run', pipeline: 'hello' },
      env: { GITHUB_EVENT_NAME: 'workflow_dispatch', HOOK_URL: `${hooks.url}/hook` },
      event: {},
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(hooks.posts.map((post) => JSON.parse(post.body).type)).toEqual(['dev.weir.run.success']);
    expect(result.summary).toContain('### Notifications');
    expect(result.summary).toContain('| audit | success | ✅ sent | 1 |  |');
    expect(result.summary).toMatch(/\| chat \| success \(stage rates\) \| ⏭️ skipped \|  \| SLACK_URL is not set; set it in the environment/);
    expect(result.stdout).toMatch(/✉ success notification sent to audit/);
  });
});
