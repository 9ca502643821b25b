import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/model/diagnostic.ts';
import { loadWeirConfig, parseWeirConfig, validateInlinePolicy, validatePolicyRef } from '../../src/definitions/weir-config.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy } from '../../src/policies/policy.ts';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { fakeStageKinds } from './fake-kinds.ts';

const lines = (...rows: string[]) => `${rows.join('\n')}\n`;
const diagnosticsOf = (text: string) => parseWeirConfig(text, 'weir.yml').diagnostics.map(formatDiagnostic);

describe('parseWeirConfig', () => {
  it('accepts valid policies, which then resolve over the built-ins', () => {
    const { config, diagnostics } = parseWeirConfig(
      lines('policies:', '  flaky-db:', '    extends: default', '    retries: 5', '    backoff: fixed', '  polite-api:', '    rate_limit: { per_second: 2 }'),
      'weir.yml',
    );
    expect(diagnostics).toEqual([]);
    expect(resolvePolicy('flaky-db', config)).toMatchObject({ retries: 5, backoff: { kind: 'fixed' } });
    expect(resolvePolicy('polite-api', config).rateLimit).toEqual({ perSecond: 2, maxConcurrent: null, key: 'host' });
  });

  it('reports max_delay below initial_delay at max_delay with the exact message', () => {
    expect(diagnosticsOf(lines('policies:', '  slow:', '    initial_delay: 10s', '    max_delay: 5s'))).toEqual([
      'weir.yml:4:16: error WEIR603: max_delay must be ≥ initial_delay',
    ]);
  });

  it('reports max_delay below an inherited initial_delay where initial_delay is written', () => {
    expect(diagnosticsOf(lines('policies:', '  base:', '    max_delay: 1m', '  slow:', '    extends: base', '    initial_delay: 2m'))).toEqual([
      'weir.yml:6:20: error WEIR603: max_delay must be ≥ initial_delay',
    ]);
  });

  it('reports an unknown policy in extends at its value, with a suggestion', () => {
    expect(diagnosticsOf(lines('policies:', '  mine:', '    extends: polite_api'))).toEqual([
      "weir.yml:3:14: error WEIR602: policy 'polite_api' is not defined (did you mean 'polite-api'?); define it under policies: in weir.yml",
    ]);
  });

  it('reports each policy of an extends cycle', () => {
    expect(diagnosticsOf(lines('policies:', '  a: { extends: b }', '  b: { extends: a }'))).toEqual([
      "weir.yml:2:17: error WEIR604: policy 'a' extends itself through a → b → a: remove one of these extends",
      "weir.yml:3:17: error WEIR604: policy 'b' extends itself through b → a → b: remove one of these extends",
    ]);
  });

  it('reports schema problems at the offending key or value and keeps the valid policies', () => {
    const { config, diagnostics } = parseWeirConfig(
      lines('policies:', '  bad:', '    retries: many', '    jiter: full', '    breaker:', '      window: 0', '  good:', '    retries: 1'),
      'weir.yml',
    );
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      "weir.yml:3:14: error WEIR601: policies.bad.retries must be a number, got the string 'many'",
      "weir.yml:4:5: error WEIR601: unknown field 'jiter' in policies.bad (did you mean 'jitter'?)",
      'weir.yml:6:15: error WEIR601: policies.bad.breaker.window must be greater than 0',
    ]);
    expect(Object.keys(config.policies)).toEqual(['good']);
  });

  it('reports YAML syntax errors with the shared YAML code', () => {
    const [diagnostic] = parseWeirConfig('policies:\n  a: [1, 2\n', 'weir.yml').diagnostics;
    expect(diagnostic.code).toBe('WEIR100');
  });

  it('reports policies that is not a mapping', () => {
    expect(diagnosticsOf(lines('policies: [a]'))).toEqual(['weir.yml:1:11: error WEIR601: policies must be a mapping, got a list']);
  });

  it('reports a misspelt top-level section with a suggestion, together with the problems of the policies', () => {
    const { config, diagnostics } = parseWeirConfig(lines('polices:', '  slow: { retries: 2 }', 'policies:', '  bad: { retries: many }', '  good: { retries: 1 }'), 'weir.yml');
    expect(diagnostics.map(formatDiagnostic)).toEqual([
      "weir.yml:1:1: error WEIR102: unknown field 'polices' in weir.yml (did you mean 'policies'?)",
      "weir.yml:4:19: error WEIR601: policies.bad.retries must be a number, got the string 'many'",
    ]);
    expect(Object.keys(config.policies)).toEqual(['good']);
  });

  it('reads allow_write_paths, and reports one of the wrong type', () => {
    expect(parseWeirConfig(lines('allow_write_paths: [../shared/out, /srv/exports]'), 'weir.yml')).toMatchObject({
      allowWritePaths: ['../shared/out', '/srv/exports'],
      diagnostics: [],
    });
    expect(diagnosticsOf(lines('allow_write_paths: ../shared'))).toEqual([
      "weir.yml:1:20: error WEIR101: allow_write_paths must be a list, got the string '../shared'",
    ]);
  });

  it('reports a weir.yml that is not a mapping', () => {
    expect(diagnosticsOf(lines('- policies'))).toEqual(['weir.yml:1:1: error WEIR101: weir.yml must be a mapping, got a list']);
  });
});

describe('loadWeirConfig', () => {
  let root: string | undefined;
  afterEach(async () => root && rm(root, { recursive: true, force: true }));

  it('gives the built-ins only, without diagnostics, when there is no weir.yml', async () => {
    root = await mkdtemp(join(tmpdir(), 'weir-policies-'));
    await expect(loadWeirConfig(root)).resolves.toEqual({ config: EMPTY_POLICY_CONFIG, allowWritePaths: [], channels: {}, diagnostics: [] });
  });

  it('reads weir.yml at the project root', async () => {
    root = await mkdtemp(join(tmpdir(), 'weir-policies-'));
    await writeFile(join(root, 'weir.yml'), lines('policies:', '  nightly:', '    timeout: 2h'));
    const { config, diagnostics } = await loadWeirConfig(root);
    expect(diagnostics).toEqual([]);
    expect(resolvePolicy('nightly', config).timeoutMs).toBe(7_200_000);
  });
});

describe('validatePolicyRef and validateInlinePolicy', () => {
  const at = ['stages', 'load', 'policy'];

  it('accepts known names and valid inline overrides', () => {
    expect(validatePolicyRef('gpu-bound', at)).toEqual([]);
    expect(validatePolicyRef({ extends: 'polite-api', retries: 2 }, at)).toEqual([]);
  });

  it('reports an unknown policy name at the reference', () => {
    expect(validatePolicyRef('gpu', at)).toEqual([
      { code: 'WEIR602', path: at, message: "policy 'gpu' is not defined; known policies: default, gpu-bound, polite-api; define it under policies: in weir.yml" },
    ]);
  });

  it('returns issues with paths under the stage for invalid inline fields', () => {
    expect(validateInlinePolicy({ retries: -1, rate_limit: { per_second: 5, burst: 2 }, max_delay: '10ms' }, at, EMPTY_POLICY_CONFIG)).toEqual([
      { code: 'WEIR601', path: [...at, 'retries'], message: 'stages.load.policy.retries must be at least 0, got the number -1' },
      {
        code: 'WEIR601',
        path: [...at, 'rate_limit', 'burst'],
        key: true,
        message: "unknown field 'burst' in stages.load.policy.rate_limit; allowed fields: per_second, max_concurrent, key",
      },
    ]);
    expect(validateInlinePolicy({ max_delay: '10ms' }, at)).toEqual([
      { code: 'WEIR603', path: [...at, 'max_delay'], message: 'max_delay must be ≥ initial_delay' },
    ]);
  });
});

describe('one wording for schema problems', () => {
  it('words the same mistake the same way in a policy, in weir.yml and in a pipeline stage', () => {
    const inline = validateInlinePolicy({ timeout: 'forever' }, ['stages', 'load', 'policy']);
    expect(inline).toEqual([
      { code: 'WEIR601', path: ['stages', 'load', 'policy', 'timeout'], message: "stages.load.policy.timeout must be a duration such as 30s or 10m, got the string 'forever'" },
    ]);
    expect(diagnosticsOf(lines('policies:', '  slow: { timeout: forever }'))).toEqual([
      "weir.yml:2:20: error WEIR601: policies.slow.timeout must be a duration such as 30s or 10m, got the string 'forever'",
    ]);
    const stage = loadPipelineSource('name: p\nstages:\n  load:\n    uses: sql\n    timeout: forever\n    with: { query: select 1 }\n', 'p.yml', {
      kinds: fakeStageKinds(),
      fileExists: () => true,
    });
    expect(stage.diagnostics.map((d) => d.message)).toEqual(["stages.load.timeout must be a duration such as 30s or 10m, got the string 'forever'"]);
  });
});
