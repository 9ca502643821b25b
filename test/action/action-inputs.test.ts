import { describe, expect, it } from 'vitest';
import type { ActionsRuntime } from '../../src/adapters/github-actions.ts';
import { ActionInputError, parseParamsInput, parsePipelineList, readActionInputs } from '../../src/entrypoints/action-inputs.ts';

function runtimeWith(inputs: Record<string, string>): ActionsRuntime {
  const unused = () => {
    throw new Error('not used by readActionInputs');
  };
  return { input: (name) => inputs[name] ?? '', setOutput: unused, setSecret: unused, annotate: unused, info: unused, warning: unused, group: unused, appendSummary: unused, setFailed: unused };
}

describe('the Action inputs', () => {
  it('reads a pipeline list written with commas or one per line, and all as every pipeline', () => {
    expect(parsePipelineList('a, b\nc')).toEqual(['a', 'b', 'c']);
    expect(parsePipelineList('all')).toEqual([]);
    expect(parsePipelineList('')).toEqual([]);
  });

  it('reads params as a YAML or JSON map, keeping values as text for the pipeline to type', () => {
    expect(parseParamsInput('{ "days": 3, "full": true }')).toEqual({ days: '3', full: 'true' });
    expect(parseParamsInput('base: USD\ndays: 2')).toEqual({ base: 'USD', days: '2' });
    expect(() => parseParamsInput('base: [a, b]')).toThrow("input 'params': param 'base' has a list or map value");
    expect(() => parseParamsInput('{ base')).toThrow(ActionInputError);
    // What `${{ toJSON(inputs) }}` may give on an event without inputs (a schedule): no params.
    expect(parseParamsInput('null')).toEqual({});
    expect(parseParamsInput('{}')).toEqual({});
    expect(() => parseParamsInput('3')).toThrow("input 'params': must be a map");
  });

  it('resolves working-directory under the workspace and refuses date with interval, naming the input', () => {
    const inputs = readActionInputs(runtimeWith({ 'working-directory': 'etl', date: '2026-11-30' }), { GITHUB_WORKSPACE: '/repo' }, '/elsewhere');
    expect(inputs).toMatchObject({ command: 'validate', root: '/repo/etl', workspace: '/repo', ledgerBranch: 'weir-ledger', interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' } });
    expect(() => readActionInputs(runtimeWith({ date: '2026-11-30', interval: '2026-11-01..2026-11-02' }), {}, '/repo')).toThrow("input 'date': give 'date' or 'interval', not both");
    expect(() => readActionInputs(runtimeWith({ date: '30/11/2026' }), {}, '/repo')).toThrow("input 'date': '30/11/2026' is not a date");
    expect(() => readActionInputs(runtimeWith({ interval: '2026-11-02..2026-11-01' }), {}, '/repo')).toThrow(/^input 'interval': '2026-11-02\.\.2026-11-01' ends before it starts/);
  });
});

describe('declaredSecretValues', () => {
  it('takes exact names and * patterns, and nothing else', async () => {
    const { declaredSecretValues } = await import('../../src/entrypoints/action-inputs.ts');
    const env = { API_KEY: 'k-1234', API_URL: 'u-5678', DB_TOKEN: 't-9999', PATH: '/usr/bin', 'A.B': 'dot-0000' };
    expect(declaredSecretValues(['API_*', '*_TOKEN'], env).sort()).toEqual(['k-1234', 't-9999', 'u-5678']);
    expect(declaredSecretValues(['PATH'], env)).toEqual(['/usr/bin']);
    expect(declaredSecretValues(['A.*'], { ...env, AXB: 'no' })).toEqual(['dot-0000']);
  });
});
