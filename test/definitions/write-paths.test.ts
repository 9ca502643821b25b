import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { validateProject } from '../../src/definitions/validate-project.ts';
import { resolveWritePath } from '../../src/model/write-paths.ts';
import { fakeStageKinds } from './fake-kinds.ts';

let base: string;
let root: string;
let outside: string;

beforeEach(async () => {
  base = await realpath(await mkdtemp(path.join(tmpdir(), 'weir-write-paths-')));
  root = path.join(base, 'project');
  outside = path.join(base, 'elsewhere');
  await mkdir(path.join(root, 'out'), { recursive: true });
  await mkdir(outside);
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('resolveWritePath', () => {
  it('accepts a path inside the root that does not exist yet, resolved against the root', () => {
    expect(resolveWritePath(root, 'out/new/rates.csv')).toEqual({ ok: true, resolved: path.join(root, 'out/new/rates.csv') });
    expect(resolveWritePath(root, 'out/../out/x.csv')).toMatchObject({ ok: true });
  });

  it("refuses '..' and absolute paths that leave the root", () => {
    expect(resolveWritePath(root, '../elsewhere/x.csv')).toEqual({
      ok: false,
      resolved: path.join(outside, 'x.csv'),
      reason: "its '..' segments lead outside the project root",
    });
    expect(resolveWritePath(root, path.join(outside, 'x.csv'))).toMatchObject({ ok: false, reason: 'it is an absolute path outside the project root' });
  });

  it('refuses a folder inside the root that is a symbolic link to a folder outside it', async () => {
    await symlink(outside, path.join(root, 'exports'));
    expect(resolveWritePath(root, 'exports/x.csv')).toEqual({
      ok: false,
      resolved: path.join(outside, 'x.csv'),
      reason: 'a symbolic link in it leads outside the project root',
    });
  });

  it('refuses a file that is a dangling symbolic link, since writing would create its target', async () => {
    await symlink(path.join(outside, 'missing/x.csv'), path.join(root, 'out/x.csv'));
    expect(resolveWritePath(root, 'out/x.csv')).toMatchObject({ ok: false, reason: 'it goes through a symbolic link whose target does not exist' });
  });

  it('accepts a path outside the root under a folder allow_write_paths lists, relative or absolute', () => {
    expect(resolveWritePath(root, '../elsewhere/x.csv', ['../elsewhere'])).toEqual({ ok: true, resolved: path.join(outside, 'x.csv') });
    expect(resolveWritePath(root, path.join(outside, 'deep/x.csv'), [outside])).toMatchObject({ ok: true });
    expect(resolveWritePath(root, '../elsewhere2/x.csv', ['../elsewhere'])).toMatchObject({ ok: false });
  });
});

describe('validateProject and write paths', () => {
  const exporting = (target: string) => `name: save\nstages:\n  save:\n    uses: export\n    with: { table: t, path: "${target}" }\n`;

  it('refuses an export outside the project with WEIR306, unless weir.yml allows the folder', async () => {
    await mkdir(path.join(root, 'pipelines'));
    await writeFile(path.join(root, 'pipelines', 'save.yml'), exporting('../elsewhere/rates.csv'));
    const refused = await validateProject([], { root, kinds: fakeStageKinds() });
    expect(refused.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual(['pipelines/save.yml:5:29 WEIR306']);
    expect(refused.pipelines).toEqual([]);

    await writeFile(path.join(root, 'weir.yml'), 'allow_write_paths: [../elsewhere]\n');
    const allowed = await validateProject([], { root, kinds: fakeStageKinds() });
    expect(allowed.diagnostics).toEqual([]);
    expect(allowed.allowWritePaths).toEqual(['../elsewhere']);
  });
});
