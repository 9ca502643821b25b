import { describe, expect, it } from 'vitest';
import { project, weir } from '../cli/helpers.ts';
import { startHookServer, startSmtpServer } from './servers.ts';

const WEIR_YML = `channels:
  team:
    type: email
    from: weir@example.com
    to: [ana@example.com]
    smtp: { host_env: T_SMTP_HOST, port_env: T_SMTP_PORT, tls: none }
  hook: { type: webhook, url_env: T_HOOK_URL, secret_env: T_HOOK_SECRET, policy: { retries: 1, initial_delay: 0 } }
`;

describe('weir notify test <channel>', () => {
  it('sends a test email through the real CLI and says so', async () => {
    const smtp = await startSmtpServer();
    const dir = project({ 'weir.yml': WEIR_YML });
    const result = await weir(dir, ['notify', 'test', 'team'], { T_SMTP_HOST: '127.0.0.1', T_SMTP_PORT: String(smtp.port) });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe("test message sent to 'team' (email)");
    expect(result.code).toBe(0);
    expect(smtp.mails.map((m) => [m.recipients, m.parsed.subject])).toEqual([[['ana@example.com'], expect.stringContaining('Test notification from weir')]]);
  });

  it('exits 1 with the error when the receiver keeps failing, without printing the secret', async () => {
    const hooks = await startHookServer('error500');
    const dir = project({ 'weir.yml': WEIR_YML });
    const result = await weir(dir, ['notify', 'test', 'hook'], { T_HOOK_URL: `${hooks.url}/in`, T_HOOK_SECRET: 'canary-secret-x9' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/test message to 'hook' \(webhook\) failed after 2 attempts: POST .* answered HTTP 500/);
    expect(hooks.hits).toBe(2);
    expect(result.stderr + result.stdout).not.toContain('canary-secret-x9');
  });

  it('exits 2 naming the unset variable, and suggests a channel for a typo', async () => {
    const dir = project({ 'weir.yml': WEIR_YML });
    const unset = await weir(dir, ['notify', 'test', 'team']);
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain("channel 'team' cannot send: T_SMTP_HOST is not set");
    const typo = await weir(dir, ['notify', 'test', 'taem']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain("channel 'taem' is not defined in weir.yml (did you mean 'team'?)");
  });
});
