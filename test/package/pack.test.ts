import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { installOffline, packInto, REPO } from './install-tarball.ts';

const run = promisify(execFile);
const PIPELINE = `name: hello
stages:
  numbers:
    uses: sql
    with: { query: "select range as n from range(3)" }
  save:
    uses: export
    needs: [numbers]
    with: { table: numbers, path: out/numbers.csv }
`;

let dir: string;
let files: string[];
let project: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'weir-pack-'));
  project = join(dir, 'project');
  mkdirSync(project);
  const packed = await packInto(dir);
  files = packed.files;
  await installOffline(project, packed.tarball);
  return () => rmSync(dir, { recursive: true, force: true });
}, 60_000);

/** The installed `weir` command, as `npx weir` would find it, on this test's Node. */
function installedWeir(args: string[], cwd = project) {
  const env = { ...process.env, NO_COLOR: '1', PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` };
  return run(join(project, 'node_modules', '.bin', 'weir'), args, { cwd, env });
}

describe('the packed package', () => {
  it('ships the command, the bundle with its source map, the schemas and the docs, and nothing else', () => {
    expect(files).toEqual([
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'bin/source-map-stacks.js',
      'bin/weir.js',
      'lib/weir.mjs',
      'lib/weir.mjs.map',
      'package.json',
      'schema/pipeline.schema.json',
      'schema/weir.schema.json',
    ]);
  });

  it('builds the bundle before packing', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepack).toBe('node scripts/build.ts');
  });

  it('prints its version once installed into an empty project', async () => {
    const { stdout } = await installedWeir(['--version']);
    expect(stdout.trim()).toBe('weir 0.1.0');
  });

  it('is what `npx weir` runs in a project that depends on it', async () => {
    const env = { ...process.env, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH}` };
    // `--`: without it npx takes `--version` as its own flag and prints npm's version.
    const { stdout } = await run('npx', ['--offline', '--no', 'weir', '--', '--version'], { cwd: project, env });
    expect(stdout.trim()).toBe('weir 0.1.0');
  });

  it('runs a sql stage and an export in the installed project', async () => {
    mkdirSync(join(project, 'pipelines'));
    writeFileSync(join(project, 'pipelines', 'hello.yml'), PIPELINE);
    await installedWeir(['run', 'hello', '--quiet']);
    expect(readFileSync(join(project, 'out', 'numbers.csv'), 'utf8').trim().split('\n')).toEqual(['n', '0', '1', '2']);
  });

  it('scaffolds an empty git repository with init, then validates, runs and finds its workflows fresh', async () => {
    const repo = join(dir, 'repo');
    mkdirSync(repo);
    await run('git', ['init', '--quiet', repo]);
    await installedWeir(['init'], repo);
    await installedWeir(['validate'], repo);
    const { stdout } = await installedWeir(['run', '--all', '--json'], repo);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'succeeded' });
    await installedWeir(['compile', '--check'], repo);
    expect(readFileSync(join(repo, '.gitignore'), 'utf8')).toContain('.weir/');
  });
});
