/** `weir init` and `weir compile` through the real CLI, in temp folders. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { actionReference } from '../../src/entrypoints/cli-compile.ts';
import { project, weir } from '../cli/helpers.ts';
import { manyParamsPipeline } from './variants.ts';

function emptyGitRepository(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-init-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  execFileSync('git', ['init', '-q', dir]);
  return dir;
}

const SCHEDULED = 'name: nightly\nschedule: { cron: "5 2 * * *" }\nstages:\n  one: { uses: sql, with: { query: "select 1 as x" } }\n';

describe('weir init', () => {
  it('scaffolds an empty git repository that validates, runs and has fresh workflows', async () => {
    const dir = emptyGitRepository();
    const init = await weir(dir, ['init', '--action', 'acme']);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    for (const path of ['weir.yml', 'pipelines/hello.yml', 'data/hello/cities.csv', '.github/workflows/weir-hello.yml', '.github/workflows/weir-validate.yml']) {
      expect(existsSync(join(dir, path)), path).toBe(true);
    }
    expect(readFileSync(join(dir, 'pipelines/hello.yml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\.\/node_modules\/weir-pipelines\/schema\/pipeline\.schema\.json\n/);
    expect(readFileSync(join(dir, '.github/workflows/weir-hello.yml'), 'utf8')).toContain('uses: acme/weir@v1');
    expect(await weir(dir, ['validate'])).toMatchObject({ code: 0, stderr: '' });
    const run = await weir(dir, ['run', 'hello', '--date', '2026-03-01']);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(dir, 'out/hello/by-country-2026-03-02.csv'), 'utf8')).toContain('Germany,2,5788260');
    expect(await weir(dir, ['compile', '--action', 'acme', '--check'])).toMatchObject({ code: 0, stdout: '3 workflows fresh\n' });
    expect(execFileSync('git', ['status', '--porcelain', '--ignored'], { cwd: dir, encoding: 'utf8' })).toMatch(/!! \.weir\/\n!! out\//);
  });

  it('refuses to overwrite without --force, naming the files, and appends .gitignore entries only once', async () => {
    const dir = project({ 'weir.yml': '# mine\n', '.gitignore': 'node_modules\n/.weir\n' });
    const refused = await weir(dir, ['init']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('weir.yml already exists');
    expect(refused.stderr).toContain('pass --force');
    expect(readFileSync(join(dir, 'weir.yml'), 'utf8')).toBe('# mine\n');
    expect(existsSync(join(dir, 'pipelines'))).toBe(false);
    expect(await weir(dir, ['init', '--force'])).toMatchObject({ code: 0 });
    expect(await weir(dir, ['init', '--force'])).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toBe('node_modules\n/.weir\n# weir: local ledger and runs, exported outputs, the status site\nout/\nweir-site/\n');
  });
});

describe('weir compile', () => {
  it('writes workflows, reports a hand edit with a diff and exit 1 under --check, and rewrites it', async () => {
    const dir = project({ 'pipelines/nightly.yml': SCHEDULED, '.github/workflows/ci.yml': 'name: mine\n' });
    expect(await weir(dir, ['compile', '--check'])).toMatchObject({ code: 1 });
    const written = await weir(dir, ['compile']);
    expect(written.code).toBe(0);
    expect(written.stdout).toContain('created .github/workflows/weir-nightly.yml');
    expect(written.stderr).toContain("'OWNER/weir@v1'");
    const path = join(dir, '.github/workflows/weir-nightly.yml');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"5 2 * * *"', '"5 3 * * *"'));
    const check = await weir(dir, ['compile', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('-    - cron: "5 3 * * *"\n+    - cron: "5 2 * * *"');
    expect(check.stderr).toContain('.github/workflows/weir-nightly.yml (changed)');
    expect(await weir(dir, ['compile'])).toMatchObject({ code: 0 });
    expect(await weir(dir, ['compile', '--check'])).toMatchObject({ code: 0 });
    expect(readFileSync(join(dir, '.github/workflows/ci.yml'), 'utf8')).toBe('name: mine\n');
  });

  it('removes the workflow of a pipeline that lost its schedule', async () => {
    const dir = project({ 'pipelines/nightly.yml': SCHEDULED });
    expect(await weir(dir, ['compile'])).toMatchObject({ code: 0 });
    writeFileSync(join(dir, 'pipelines/nightly.yml'), SCHEDULED.replace(/schedule:.*\n/, ''));
    expect((await weir(dir, ['compile', '--check'])).stderr).toContain('weir-nightly.yml (orphaned)');
    expect((await weir(dir, ['compile'])).stdout).toContain('removed .github/workflows/weir-nightly.yml');
    expect(existsSync(join(dir, '.github/workflows/weir-nightly.yml'))).toBe(false);
  });

  it('writes nothing and exits 2 for an invalid pipeline or more than 25 params', async () => {
    const broken = project({ 'pipelines/nightly.yml': SCHEDULED.replace('sql', 'sqll') });
    expect(await weir(broken, ['compile'])).toMatchObject({ code: 2 });
    const many = project({ 'pipelines/many.yml': manyParamsPipeline(26) });
    const refused = await weir(many, ['compile']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('WEIR701');
    expect(existsSync(join(broken, '.github'))).toBe(false);
    expect(existsSync(join(many, '.github'))).toBe(false);
  });
});

describe('actionReference', () => {
  it('turns an owner, a repository or a full reference into uses:', () => {
    expect(actionReference(undefined)).toBe('OWNER/weir@v1');
    expect(actionReference('acme')).toBe('acme/weir@v1');
    expect(actionReference('acme/weir-fork')).toBe('acme/weir-fork@v1');
    expect(actionReference('acme/weir@0123abc')).toBe('acme/weir@0123abc');
    expect(actionReference('./')).toBe('./');
    expect(() => actionReference('a b')).toThrow(/not an action reference/);
  });
});
