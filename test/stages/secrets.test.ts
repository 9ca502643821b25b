/**
 * Secrets never reach anything a run writes: a real `weir run` (the CLI, as a user starts it)
 * against an API whose 401 echoes the Authorization header back, a command that prints its token
 * and a `secret: true` param. Then every file under the project, stdout and stderr are grepped
 * for the canary values.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { collectSecrets, createRedactor, redactEvent, REDACTED } from '../../src/model/redact.ts';
import type { PipelineSpec } from '../../src/model/pipeline.ts';
import type { RunEvent } from '../../src/model/events.ts';
import { project, weir } from '../cli/helpers.ts';
import { startFaultServer, type FaultServer } from './http-server.ts';

const TOKEN = 'canary-token-5f3a9c';
const PARAM = 'canary-param-77b1e2';

let faults: FaultServer;
beforeAll(async () => {
  faults = await startFaultServer();
});
afterAll(() => faults.close());

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('secret redaction', () => {
  it('keeps the canaries out of events, ledger, logs, stdout and every file the run writes', async () => {
    const dir = project({
      'pipelines/leaky.yml': `name: leaky
params:
  api_key: { type: string, secret: true }
stages:
  api:
    uses: http
    policy: { retries: 1, initial_delay: 10ms, jitter: none, retry_on: { http_status: [401] } }
    with:
      url: "${faults.url}/echo-auth"
      headers: { Authorization: "Bearer {{ env.WEIR_TEST_CANARY }}" }
  talk:
    uses: command
    with: { run: 'echo "token=$TOKEN key={{ params.api_key }}"; echo "$TOKEN" >&2; exit 1', env: { TOKEN: "{{ env.WEIR_TEST_CANARY }}" } }
`,
    });
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const run = await weir(dir, ['run', 'leaky', '--param', `api_key=${PARAM}`], { WEIR_TEST_CANARY: TOKEN });
    expect(run.code).toBe(1);
    // The API really got (and echoed) the token: the test would catch a leak.
    expect(faults.requests.at(-1)?.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('events.jsonl'))).toBe(true);
    const events = readFileSync(files.find((f) => f.endsWith('events.jsonl'))!, 'utf8');
    expect(events).toContain(REDACTED);
    expect(events).toContain('invalid token');
    for (const where of [run.stdout, run.stderr, ...files.map((f) => readFileSync(f, 'latin1'))]) {
      expect(where).not.toContain(TOKEN);
      expect(where).not.toContain(PARAM);
    }
  });
});

describe('createRedactor', () => {
  it('replaces the longest secret first, in URL-encoded form too, and ignores values under 4 characters', () => {
    const redact = createRedactor(['abcd', 'abcdefgh', 'a b/c', 'xyz', undefined, '']);
    expect(redact('key=abcdefgh and abcd')).toBe('key=*** and ***');
    expect(redact('q=a%20b%2Fc or a b/c')).toBe('q=*** or ***');
    expect(redact('xyz stays')).toBe('xyz stays');
  });

  it('redacts messages, params and log lines of an event but never its identity fields', () => {
    const redact = createRedactor(['s3cr3t-value', 'load']);
    const event: RunEvent = {
      type: 'stage.failed', runId: 'r1', at: '2026-01-01T00:00:00.000Z', stage: 'load', attempt: 1, durationMs: 5,
      error: { code: 'stage_failed', name: 'HttpStatusError', message: 'answered 401: {"received":"Bearer s3cr3t-value"}' },
    };
    const redacted = redactEvent(event, redact);
    expect(redacted).toMatchObject({ stage: 'load', error: { message: 'answered 401: {"received":"Bearer ***"}' } });
    expect(event.error.message).toContain('s3cr3t-value');
  });
});

describe('collectSecrets', () => {
  it('finds env values the templates read, secret-looking and listed header values, and secret params', () => {
    const spec = {
      name: 'p',
      params: { api_key: { type: 'string', secret: true }, region: { type: 'string' } },
      stages: {
        api: {
          uses: 'http',
          with: {
            url: 'https://x/{{ env.PATH_PART }}',
            headers: { 'X-Api-Key': 'literal-key-123', 'X-Custom': 'custom-value', Accept: 'application/json', Authorization: 'Bearer {{ env.TOKEN }}' },
            secret_headers: ['x-custom'],
          },
        },
      },
    } as unknown as PipelineSpec;
    const env = { PATH_PART: 'v1/items', TOKEN: 'tok-999', UNUSED: 'never-read' };
    const context = { params: {}, interval: { start: '', end: '' }, run: { id: 'r', date: '', trigger: 'manual' }, env, pipeline: { name: 'p' } };
    const secrets = collectSecrets({ spec, env, params: { api_key: 'k-secret-1', region: 'eu-west' }, context });
    expect(secrets).toEqual(expect.arrayContaining(['v1/items', 'tok-999', 'k-secret-1', 'literal-key-123', 'custom-value', 'Bearer tok-999']));
    expect(secrets).not.toContain('never-read');
    expect(secrets).not.toContain('eu-west');
    expect(secrets).not.toContain('application/json');
  });
});
