/**
 * Builds a channel's sender from its weir.yml config and the environment. A channel whose required
 * variables are unset is not an error: it is skipped with the reason (a demo or a fork without
 * secrets still runs). Also returns the channel's secret values, for the redactor.
 */
import type { ChannelConfig } from './channel-config.ts';
import { channelEnvNames } from './channel-config.ts';
import type { ChannelSender } from './channel.ts';
import { createEmailSender } from './email.ts';
import { createSlackSender } from './slack.ts';
import { createWebhookSender } from './webhook.ts';

export type SenderResult =
  | { ok: true; sender: ChannelSender; secrets: string[] }
  | { ok: false; reason: string };

export interface SenderOptions {
  env: Readonly<Record<string, string | undefined>>;
  now: () => number;
  /** Per-attempt limit (the channel policy's timeout). */
  timeoutMs: number;
}

export function createSender(name: string, config: ChannelConfig, options: SenderOptions): SenderResult {
  const { env } = options;
  const names = channelEnvNames(config);
  const missing = names.required.filter((variable) => !env[variable]);
  if (missing.length > 0) return { ok: false, reason: `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set; set ${missing.length === 1 ? 'it' : 'them'} in the environment (an Actions secret in CI) to send` };
  const secrets = names.secret.map((variable) => env[variable]).filter((value): value is string => !!value);
  switch (config.type) {
    case 'email': {
      const { smtp } = config;
      const port = smtp.port_env && env[smtp.port_env] ? Number(env[smtp.port_env]) : smtp.port;
      if (!Number.isInteger(port) || port <= 0) return { ok: false, reason: `${smtp.port_env} is '${env[smtp.port_env!]}', not a port number` };
      const sender = createEmailSender(name, {
        from: config.from,
        to: config.to,
        subjectPrefix: config.subject_prefix ?? '[weir]',
        smtp: { host: env[smtp.host_env]!, port, tls: smtp.tls, user: smtp.user_env ? env[smtp.user_env] : undefined, password: smtp.password_env ? env[smtp.password_env] : undefined },
        timeoutMs: options.timeoutMs,
      });
      return { ok: true, sender, secrets };
    }
    case 'slack':
      return { ok: true, sender: createSlackSender(name, env[config.webhook_url_env]!), secrets };
    case 'webhook':
      return { ok: true, sender: createWebhookSender(name, env[config.url_env]!, config.secret_env ? env[config.secret_env] : undefined, options.now), secrets };
  }
}
