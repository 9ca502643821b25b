import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverPipelineFiles, findPipeline, PipelinePathNotFoundError } from '../../src/definitions/discover.ts';
import { validateProject } from '../../src/definitions/validate-project.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { fakeStageKinds } from './fake-kinds.ts';

let root: string;
const pipeline = (name: string) => `name: ${name}\nstages:\n  a:\n    uses: sql\n    with: { query: select 1 }\n`;

beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'weir-spec-'));
  await mkdir(path.join(root, 'pipelines'));
  await writeFile(path.join(root, 'pipelines', 'daily.yml'), pipeline('daily'));
  await writeFile(path.join(root, 'pipelines', 'weekly.yaml'), pipeline('weekly-report'));
  await writeFile(path.join(root, 'pipelines', '_fragment.yml'), 'not: a pipeline\n');
  await writeFile(path.join(root, 'pipelines', 'notes.md'), '# notes\n');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('discoverPipelineFiles', () => {
  it('lists the yml and yaml files of a folder, skipping names that start with _', async () => {
    expect(await discoverPipelineFiles(['pipelines'], root)).toEqual(['pipelines/daily.yml', 'pipelines/weekly.yaml']);
  });

  it('takes a file as itself and defaults to pipelines/', async () => {
    expect(await discoverPipelineFiles(['pipelines/_fragment.yml'], root)).toEqual(['pipelines/_fragment.yml']);
    expect(await discoverPipelineFiles([], root)).toHaveLength(2);
  });

  it('rejects a path that does not exist with an error naming it', async () => {
    await expect(discoverPipelineFiles(['pipelnes'], root)).rejects.toThrow(PipelinePathNotFoundError);
    await expect(discoverPipelineFiles(['pipelnes'], root)).rejects.toThrow("'pipelnes' does not exist");
  });
});

describe('findPipeline', () => {
  it('finds a pipeline by path, by file name and by its name field', async () => {
    expect(await findPipeline('pipelines/daily.yml', root)).toEqual({ found: true, file: 'pipelines/daily.yml' });
    expect(await findPipeline('weekly', root)).toEqual({ found: true, file: 'pipelines/weekly.yaml' });
    expect(await findPipeline('weekly-report', root)).toEqual({ found: true, file: 'pipelines/weekly.yaml' });
  });

  it('returns the known names when nothing matches', async () => {
    expect(await findPipeline('dayly', root)).toEqual({ found: false, knownNames: ['daily', 'weekly-report'] });
  });
});

describe('validateProject', () => {
  it('loads every pipeline of the project', async () => {
    const result = await validateProject([], { root, kinds: fakeStageKinds() });
    expect(result.diagnostics).toEqual([]);
    expect(result.pipelines.map((p) => p.spec.name)).toEqual(['daily', 'weekly-report']);
    expect(result.files).toEqual(['pipelines/daily.yml', 'pipelines/weekly.yaml']);
  });

  it('reports a pipeline name used by two files on the second file', async () => {
    await writeFile(path.join(root, 'pipelines', 'more.yml'), `# copy\n${pipeline('daily')}`);
    const result = await validateProject(['pipelines'], { root, kinds: fakeStageKinds() });
    expect(result.diagnostics).toEqual([
      {
        code: 'WEIR105',
        severity: 'error',
        file: 'pipelines/more.yml',
        line: 2,
        column: 7,
        message: "pipeline name 'daily' is already used by pipelines/daily.yml: names must be unique in a project, so rename one",
      },
    ]);
  });

  it('sorts diagnostics by file and position', async () => {
    await writeFile(path.join(root, 'pipelines', 'broken.yml'), 'name: broken\nstages:\n  a:\n    uses: nope\n  b:\n    uses: sql\n    needs: [x]\n');
    const result = await validateProject([], { root, kinds: fakeStageKinds() });
    expect(result.diagnostics.map((d) => `${d.file}:${d.line}:${d.code}`)).toEqual(['pipelines/broken.yml:4:WEIR301', 'pipelines/broken.yml:6:WEIR302', 'pipelines/broken.yml:7:WEIR201']);
  });

  it('validates with the default stage kinds', async () => {
    await writeFile(path.join(root, 'pipelines', 'sql.yml'), 'name: sql-file\nstages:\n  a:\n    uses: sql\n    with: { file: sql/missing.sql }\n');
    const result = await validateProject([], { root, kinds: defaultStageKinds() });
    expect(result.diagnostics.map((d) => d.code)).toEqual(['WEIR303']);
  });
});
