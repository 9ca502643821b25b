/**
 * `weir.yml` `channels:` — notification channels defined once and named by pipelines
 * (`notify: { on: [...], to: [channel] }`). Credentials and endpoints that grant access (SMTP
 * password, Slack webhook URL, webhook signing secret) come from environment variables named here,
 * never from the file: a literal value would be committed to git. Pure: validation returns issues
 * with YAML paths, which weir-config.ts positions.
 */
import { z } from 'zod';
import { NAME_PATTERN, PolicyRef } from '../model/pipeline.ts';
import type { SchemaIssue } from '../definitions/schema-issues.ts';
import { describeIssues } from '../definitions/schema-issues.ts';

/** Codes of channel diagnostics (docs/notifications.md lists them). */
export const CHANNEL_CODES = {
  invalid: 'WEIR610',
  literalSecret: 'WEIR611',
  unknownChannel: 'WEIR612',
} as const;

const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name such as SMTP_PASSWORD');
const policy = PolicyRef.optional().describe('Retry policy of each send: a policy name or inline fields. Default: 3 retries, 1s backoff, 30s timeout per attempt.');

export const EmailChannel = z.strictObject({
  type: z.literal('email'),
  to: z.array(z.string().min(3).regex(/@/, 'expected an email address')).min(1).describe('Recipients.'),
  from: z.string().min(3).regex(/@/, 'expected an email address').describe('Sender address.'),
  subject_prefix: z.string().optional().describe('Put before every subject. Default: "[weir]".'),
  smtp: z.strictObject({
    host_env: EnvName.describe('Variable holding the SMTP host.'),
    port_env: EnvName.optional().describe('Variable holding the port. Default: port.'),
    port: z.number().int().positive().default(587).describe('Port when port_env is not set. Default: 587.'),
    tls: z.enum(['starttls', 'implicit', 'none']).default('starttls').describe('starttls (587), implicit (465) or none (local relays only). Default: starttls.'),
    user_env: EnvName.optional().describe('Variable holding the user name. Default: no authentication.'),
    password_env: EnvName.optional().describe('Variable holding the password or API key.'),
  }),
  policy,
});

export const SlackChannel = z.strictObject({
  type: z.literal('slack'),
  webhook_url_env: EnvName.describe('Variable holding the incoming webhook URL (it is a credential).'),
  policy,
});

export const WebhookChannel = z.strictObject({
  type: z.literal('webhook'),
  url_env: EnvName.describe('Variable holding the URL to POST to.'),
  secret_env: EnvName.optional().describe('Variable holding the HMAC-SHA256 signing secret. Default: unsigned.'),
  policy,
});

export const ChannelConfig = z.discriminatedUnion('type', [EmailChannel, SlackChannel, WebhookChannel]);
export type ChannelConfig = z.infer<typeof ChannelConfig>;
export type EmailChannelConfig = z.infer<typeof EmailChannel>;
export type SlackChannelConfig = z.infer<typeof SlackChannel>;
export type WebhookChannelConfig = z.infer<typeof WebhookChannel>;
export type ChannelConfigs = Readonly<Record<string, ChannelConfig>>;

/** Keys that would hold a credential in the file: each has an `_env` twin to use instead. */
const LITERAL_SECRET_KEYS: Readonly<Record<string, string>> = {
  password: 'password_env',
  user: 'user_env',
  host: 'host_env',
  webhook_url: 'webhook_url_env',
  url: 'url_env',
  secret: 'secret_env',
  token: 'secret_env',
};

/** Reads `channels:` entry by entry: valid ones are kept, each problem is an issue at its path. */
export function readChannels(entries: Record<string, unknown>): { channels: Record<string, ChannelConfig>; issues: SchemaIssue[] } {
  const channels: Record<string, ChannelConfig> = {};
  const issues: SchemaIssue[] = [];
  for (const [name, raw] of Object.entries(entries)) {
    const path = ['channels', name];
    if (!NAME_PATTERN.test(name)) {
      issues.push({ code: CHANNEL_CODES.invalid, path, key: true, message: `'${name}' is not a valid channel name: use letters, digits, _ and -, starting with a letter or _` });
      continue;
    }
    const literal = literalSecretIssues(raw, path);
    if (literal.length > 0) {
      issues.push(...literal);
      continue;
    }
    const parsed = ChannelConfig.safeParse(raw, { reportInput: true });
    if (parsed.success) channels[name] = parsed.data;
    else issues.push(...describeIssues(parsed.error.issues, { base: path, schema: ChannelConfig, code: CHANNEL_CODES.invalid }));
  }
  return { channels, issues };
}

function literalSecretIssues(raw: unknown, path: (string | number)[]): SchemaIssue[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  const record = raw as Record<string, unknown>;
  const smtp = record.smtp !== null && typeof record.smtp === 'object' ? (record.smtp as Record<string, unknown>) : {};
  const found = [
    ...Object.keys(record).filter((key) => key in LITERAL_SECRET_KEYS).map((key) => [...path, key]),
    ...Object.keys(smtp).filter((key) => key in LITERAL_SECRET_KEYS).map((key) => [...path, 'smtp', key]),
  ];
  return found.map((at) => {
    const key = String(at[at.length - 1]);
    const twin = LITERAL_SECRET_KEYS[key];
    return { code: CHANNEL_CODES.literalSecret, path: at, key: true, message: `channel '${path[1]}': ${key} is not read from weir.yml, which is committed to git; write ${twin}: NAME and set NAME in the environment (an Actions secret in CI)` };
  });
}

/** The environment variables a channel reads, by role; `required` ones must be set to send. */
export function channelEnvNames(config: ChannelConfig): { required: string[]; optional: string[]; secret: string[] } {
  switch (config.type) {
    case 'email': {
      const { host_env, port_env, user_env, password_env } = config.smtp;
      return { required: [host_env], optional: [port_env, user_env, password_env].filter(isSet), secret: [user_env, password_env].filter(isSet) };
    }
    case 'slack':
      return { required: [config.webhook_url_env], optional: [], secret: [config.webhook_url_env] };
    case 'webhook':
      return { required: [config.url_env], optional: [config.secret_env].filter(isSet), secret: [config.url_env, config.secret_env].filter(isSet) };
  }
}

function isSet(value: string | undefined): value is string {
  return value !== undefined;
}
