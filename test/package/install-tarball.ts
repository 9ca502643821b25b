/**
 * Installs a packed weir tarball into an empty project without the network: the project gets a
 * lockfile made of the tarball plus this repository's locked production dependencies, whose
 * tarballs `npm ci` already put in npm's cache, so `npm ci --offline` finds every one by integrity.
 * (`npm install --offline <tarball>` fails here: it needs registry metadata that npm ci never caches.)
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const REPO = join(import.meta.dirname, '..', '..');

interface LockEntry {
  dev?: boolean;
  [field: string]: unknown;
}

/** Packs the repository into `dir` with the bundle already built (global setup); returns the tarball path and its file list. */
export async function packInto(dir: string): Promise<{ tarball: string; files: string[] }> {
  // --ignore-scripts: prepack would rebuild lib/weir.mjs while other test files run it.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, packed.filename), files: packed.files.map((f) => f.path).sort() };
}

/** Writes a project in `dir` that depends on `tarball` only, and installs it offline. */
export async function installOffline(dir: string, tarball: string): Promise<void> {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const spec = `file:${tarball}`;
  const packages: Record<string, unknown> = {
    '': { name: 'weir-user', dependencies: { [pkg.name]: spec } },
    [`node_modules/${pkg.name}`]: { version: pkg.version, resolved: spec, dependencies: pkg.dependencies, bin: pkg.bin, engines: pkg.engines },
  };
  for (const [path, entry] of Object.entries(lock.packages)) if (path && !entry.dev) packages[path] = entry;
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'weir-user', private: true, dependencies: { [pkg.name]: spec } }));
  writeFileSync(join(dir, 'package-lock.json'), JSON.stringify({ name: 'weir-user', lockfileVersion: 3, requires: true, packages }));
  const install = (mode: string) => run('npm', ['ci', mode, '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir });
  // A cache without one of the tarballs (cleaned, or another --cache at `npm ci`): fetch what is missing.
  await install('--offline').catch((error: { stderr?: string }) => {
    if (!error.stderr?.includes('ENOTCACHED')) throw error;
    return install('--prefer-offline');
  });
}
