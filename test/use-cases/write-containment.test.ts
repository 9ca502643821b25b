/** Paths a stage writes are checked again at run time, after templating: validate cannot see a param's value. */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { project, weir } from '../cli/helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const PIPELINE = `name: out
params:
  dir: { type: string, default: reports }
stages:
  t:
    uses: sql
    with: { query: select 1 as x }
  save:
    uses: export
    needs: [t]
    with: { table: t, path: "{{ params.dir }}/x.csv" }
`;

describe('write paths at run time', () => {
  it('refuses an export whose templated path leaves the project, once, without writing it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'weir-outside-'));
    const dir = project({ 'pipelines/out.yml': PIPELINE });
    dirs.push(outside, dir);
    const run = await weir(dir, ['run', 'out', '--param', `dir=${outside}`, '--json']);
    expect(run.code).toBe(1);
    const record = JSON.parse(run.stdout);
    expect(record.stages.save).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/with\.path .* outside the project .*allow_write_paths/) } });
    expect(record.stages.save.attempts).toHaveLength(1);
    expect(existsSync(join(outside, 'x.csv'))).toBe(false);
  });

  it('writes there when weir.yml allows the folder', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'weir-outside-'));
    const dir = project({ 'pipelines/out.yml': PIPELINE });
    dirs.push(outside, dir);
    writeFileSync(join(dir, 'weir.yml'), `allow_write_paths: [${JSON.stringify(outside)}]\n`);
    const run = await weir(dir, ['run', 'out', '--param', `dir=${outside}`]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(existsSync(join(outside, 'x.csv'))).toBe(true);
  });
});
