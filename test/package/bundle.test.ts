import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPO } from './install-tarball.ts';

const run = promisify(execFile);

function tempDir(prefix: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Runs `node args…` and returns its exit code and output whether it succeeded or not. */
async function node(args: string[], cwd: string, env: Record<string, string> = {}) {
  const options = { cwd, env: { ...process.env, NO_COLOR: '1', ...env } };
  return run(process.execPath, args, options).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => ({ code: error.code, stdout: error.stdout, stderr: error.stderr }),
  );
}

describe('the bundle (lib/weir.mjs)', () => {
  it('records real error class names in the ledger, not minified ones', async () => {
    const project = tempDir('weir-bundle-', {
      'pipelines/broken.yml': 'name: broken\nstages:\n  load:\n    uses: sql\n    with: { query: "select * from no_such_table" }\n',
    });
    const result = await node([join(REPO, 'bin', 'weir.js'), 'run', 'broken'], project);
    expect(result.code).toBe(1);
    // Every file of the ledger, whatever its layout.
    const ledger = readdirSync(join(project, '.weir', 'ledger'), { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
    const record = ledger.map((entry) => readFileSync(join(entry.parentPath, entry.name), 'utf8')).join('\n');
    const names = [...record.matchAll(/"name":"([^"]*)"/g)].map((match) => match[1]);
    expect(names).toContain('StageFailedError');
    for (const name of names.filter((n) => n !== 'broken' && n !== 'load')) expect(name).toMatch(/^[A-Z][A-Za-z]+Error$/);
  });

  it('prints stack traces that point at the TypeScript sources', async () => {
    // A small bundle built like lib/weir.mjs, so the test does not depend on how the CLI fails.
    const dir = tempDir('weir-stack-', {
      'src/fail.ts': 'export function fail(): never {\n  throw new TypeError("broke here");\n}\n',
      'lib/entry.mjs': "export { fail } from '../src/fail.ts';\n",
    });
    const bundle = join(dir, 'lib', 'bundle.mjs');
    await build({ entryPoints: [join(dir, 'lib', 'entry.mjs')], outfile: bundle, bundle: true, format: 'esm', platform: 'node', minify: true, sourcemap: 'linked', sourcesContent: false, logLevel: 'silent' });
    const script = join(dir, 'throw.mjs');
    writeFileSync(
      script,
      `import { mapBundleStacks } from ${JSON.stringify(pathToFileURL(join(REPO, 'bin', 'source-map-stacks.js')).href)};
       mapBundleStacks(${JSON.stringify(bundle)});
       const { fail } = await import(${JSON.stringify(pathToFileURL(bundle).href)});
       try { fail(); } catch (error) { console.log(error.stack); }`,
    );
    const { stdout } = await node([script], dir);
    expect(stdout).toMatch(/^TypeError: broke here\n/);
    expect(stdout).toContain(`(${join(dir, 'src', 'fail.ts')}:2:`);
    expect(stdout).not.toContain('bundle.mjs');
  });

  it('ships a source map whose sources are the files under src/', () => {
    const map = JSON.parse(readFileSync(join(REPO, 'lib', 'weir.mjs.map'), 'utf8')) as { sources: string[] };
    expect(map.sources).toContain('../src/entrypoints/cli.ts');
  });
});

describe('bin/weir.js', () => {
  /** A copy of bin/ next to a stub bundle and stub sources that say which one ran. */
  function stubRoot(withBundle: boolean): string {
    const root = tempDir('weir-bin-', {
      'src/entrypoints/cli.ts': "export async function main(): Promise<number> { console.log('source'); return 0; }\n",
      ...(withBundle ? { 'lib/weir.mjs': "export async function main() { console.log('bundle'); return 0; }\n" } : {}),
    });
    mkdirSync(join(root, 'bin'));
    for (const file of ['weir.js', 'source-map-stacks.js']) copyFileSync(join(REPO, 'bin', file), join(root, 'bin', file));
    // Sources newer than the bundle, as after a checkout: the bundle must still be used.
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(join(root, 'src', 'entrypoints', 'cli.ts'), future, future);
    return root;
  }

  it('runs the bundle whenever it exists, even when a source file is newer', async () => {
    const root = stubRoot(true);
    expect((await node([join(root, 'bin', 'weir.js')], root)).stdout).toBe('bundle\n');
  });

  it('runs the sources only when WEIR_FROM_SOURCE=1', async () => {
    const root = stubRoot(true);
    expect((await node([join(root, 'bin', 'weir.js')], root, { WEIR_FROM_SOURCE: '1' })).stdout).toBe('source\n');
  });

  it('says how to build the bundle when it is missing, and exits 2', async () => {
    const root = stubRoot(false);
    const result = await node([join(root, 'bin', 'weir.js')], root);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(root, 'lib', 'weir.mjs')} is missing: run 'npm run build'`);
  });
});
