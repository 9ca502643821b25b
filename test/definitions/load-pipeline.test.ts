import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/model/diagnostic.ts';
import { type LoadOptions, loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { fakeStageKinds } from './fake-kinds.ts';

const options: LoadOptions = { kinds: fakeStageKinds(), fileExists: (file) => file === 'sql/clean.sql' };

function diagnose(source: string, extra: Partial<LoadOptions> = {}): Pick<Diagnostic, 'code' | 'line' | 'column' | 'message'>[] {
  return loadPipelineSource(source, 'p.yml', { ...options, ...extra }).diagnostics.map(({ code, line, column, message }) => ({ code, line, column, message }));
}

const stage = (name: string, needs?: string) => `  ${name}:\n    uses: sql\n${needs ? `    needs: ${needs}\n` : ''}    with: { query: select 1 }\n`;

describe('graph diagnostics', () => {
  it('names the unknown need and the closest defined stage', () => {
    expect(diagnose(`name: p\nstages:\n${stage('extract')}${stage('load', '[extract2]')}`)).toEqual([
      { code: 'WEIR201', line: 8, column: 13, message: "stage 'load' needs 'extract2', which is not defined (did you mean 'extract'?)" },
    ]);
  });

  it('reports a cycle once, with its full path, at the first stage’s needs', () => {
    const source = `name: p\nstages:\n${stage('a', 'b')}${stage('b', 'c')}${stage('c', '[a]')}`;
    expect(diagnose(source)).toEqual([
      { code: 'WEIR202', line: 5, column: 12, message: 'stages form a cycle: a → b → c → a; remove one of these needs so the stages can run in order' },
    ]);
  });

  it('reports two separate cycles separately', () => {
    const source = `name: p\nstages:\n${stage('a', 'b')}${stage('b', 'a')}${stage('c', 'd')}${stage('d', 'c')}`;
    expect(diagnose(source).map((d) => d.message.split(';')[0])).toEqual(['stages form a cycle: a → b → a', 'stages form a cycle: c → d → c']);
  });

  it('reports a stage needing itself as a self-dependency, not a cycle', () => {
    expect(diagnose(`name: p\nstages:\n${stage('a', 'a')}`)).toEqual([
      { code: 'WEIR203', line: 5, column: 12, message: "stage 'a' needs itself: remove 'a' from its needs" },
    ]);
  });

  it('validates a 10,000-stage chain without quadratic work', () => {
    const stages = Array.from({ length: 10_000 }, (_, i) => stage(`s${i}`, i > 0 ? `[s${i - 1}]` : undefined)).join('');
    const started = performance.now();
    const result = loadPipelineSource(`name: big\nstages:\n${stages}`, 'big.yml', options);
    expect(result.diagnostics).toEqual([]);
    expect(Object.keys(result.pipeline!.spec.stages)).toHaveLength(10_000);
    // Generous: CI machines are slow; a quadratic rule takes minutes here.
    expect(performance.now() - started).toBeLessThan(15_000);
  });
});

describe('schema diagnostics', () => {
  it('points at the key of an unknown field and suggests the allowed one', () => {
    expect(diagnose(`name: p\nstages:\n  a:\n    uses: sql\n    with: { query: select 1 }\n    timout: 5m\n`)).toEqual([
      { code: 'WEIR102', line: 6, column: 5, message: "unknown field 'timout' in stages.a (did you mean 'timeout'?)" },
    ]);
  });

  it('says what type was expected and what was written, at the value', () => {
    expect(diagnose(`name: p\nconcurrency: "4"\nstages:\n${stage('a')}`)).toEqual([
      { code: 'WEIR101', line: 2, column: 14, message: "concurrency must be a number, got the string '4'" },
    ]);
  });

  it('explains the version this weir reads', () => {
    expect(diagnose(`version: 3\nname: p\nstages:\n${stage('a')}`)[0].message).toBe('this weir reads pipeline version 1, not 3: set version: 1 (or remove it)');
  });

  it('points at the second of two stages with the same name and names both lines', () => {
    expect(diagnose(`name: p\nstages:\n${stage('a')}${stage('a')}`)).toEqual([
      { code: 'WEIR103', line: 6, column: 3, message: "duplicate key 'a' on lines 3 and 6: keys must be unique, so rename or remove one (only the last would be kept)" },
    ]);
  });

  it('positions stage config errors under with', () => {
    expect(diagnose(`name: p\nstages:\n  a:\n    uses: http\n    with:\n      url: 42\n`)).toEqual([
      { code: 'WEIR302', line: 6, column: 12, message: 'stages.a.with.url must be a string, got the number 42' },
    ]);
  });

  it('accepts a file reference that exists and rejects one that does not', () => {
    const source = (file: string) => `name: p\nstages:\n  a:\n    uses: sql\n    with: { file: ${file} }\n`;
    expect(diagnose(source('sql/clean.sql'))).toEqual([]);
    expect(diagnose(source('sql/dirty.sql'))[0]).toMatchObject({ code: 'WEIR303', line: 5, column: 19 });
  });

  it('skips the file check for templated paths, which are only known at run time', () => {
    expect(diagnose(`name: p\nstages:\n  a:\n    uses: sql\n    with: { file: "sql/{{ run.id }}.sql" }\n`)).toEqual([]);
  });

  it('counts params used only inside referenced files as used', () => {
    const source = `name: p\nparams:\n  base: { default: EUR }\nstages:\n  a:\n    uses: sql\n    with: { file: sql/clean.sql }\n`;
    expect(diagnose(source).map((d) => d.code)).toEqual(['WEIR505']);
    expect(diagnose(source, { readFile: () => 'select {{ params.base | sql }}' })).toEqual([]);
  });

  it('checks policy names against the built-in policies and those of weir.yml', () => {
    const source = `name: p\nstages:\n  a:\n    uses: http\n    with: { url: "https://x" }\n    policy: politee\n`;
    expect(diagnose(source)[0]).toMatchObject({ code: 'WEIR305', line: 6, column: 13 });
    expect(diagnose(source)[0].message).toBe("stage 'a': policy 'politee' is not defined; known policies: default, gpu-bound, polite-api; define it under policies: in weir.yml");
    expect(diagnose(source, { policies: { policies: { politer: {} } } })[0].message).toContain("(did you mean 'politer'?)");
    expect(diagnose(source.replace('politee', 'polite-api'))).toEqual([]);
  });

  it('leaves a defined policy with a broken extends chain to the weir.yml diagnostic', () => {
    const source = `name: p\nstages:\n  a:\n    uses: http\n    with: { url: "https://x" }\n    policy: vendor\n`;
    expect(diagnose(source, { policies: { policies: { vendor: { extends: 'nope' } } } })).toEqual([]);
  });

  it('returns the pipeline with a locator when there are only warnings', () => {
    const result = loadPipelineSource(`name: p\nschedule: { cron: "0 6 * * *" }\nstages:\n${stage('a', '[]')}`, 'p.yml', options);
    expect(result.diagnostics.map((d) => d.code)).toEqual(['WEIR404']);
    expect(result.pipeline?.locate(['stages', 'a', 'uses'])).toEqual({ line: 5, column: 11 });
    expect(result.pipeline?.spec.schedule).toEqual({ cron: '0 6 * * *', timezone: 'UTC', catchup: 'last' });
  });
});

describe('diagnostics with the real stage kinds', () => {
  it('names the allowed pagination types when the tag matches none, with a suggestion', async () => {
    const { defaultStageKinds } = await import('../../src/stages/registry.ts');
    const source = 'name: p\nstages:\n  api:\n    uses: http\n    with: { url: "https://x", pagination: { type: pages } }\n';
    expect(diagnose(source, { kinds: defaultStageKinds() })).toEqual([
      {
        code: 'WEIR302',
        line: 5,
        column: 51,
        message: "stages.api.with.pagination.type must be one of next_link, page, cursor, got the string 'pages' (did you mean 'page'?)",
      },
    ]);
  });
});
