/**
 * Pins DuckDB's native binding packages for the Action (which fetches them at run time instead of
 * carrying ~70 MB per platform): writes src/adapters/duckdb-binding-pins.json from package-lock.json.
 *
 *   node scripts/pin-duckdb-binding.ts                   # write the file
 *   node scripts/pin-duckdb-binding.ts --check           # exit 1 when the committed file is stale
 *   node scripts/pin-duckdb-binding.ts --check-registry  # also compare with `npm view` (network)
 *
 * npm records every optional platform package of `@duckdb/node-bindings` in the lockfile with its
 * sha512 integrity, installed or not, so pinning needs no network. For a platform the lockfile
 * lacks, the entry is taken from `npm view <pkg>@<version> dist.integrity dist.tarball`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BindingPin, BindingPinsFile } from '../src/adapters/duckdb-binding-pins.ts';

const ROOT = join(fileURLToPath(import.meta.url), '..', '..');
export const PINS_PATH = join(ROOT, 'src', 'adapters', 'duckdb-binding-pins.json');
const BINDINGS = '@duckdb/node-bindings';
/** Platforms the Action supports: GitHub's hosted runners and the common self-hosted ones. */
export const PINNED_PLATFORMS = ['linux-x64', 'linux-arm64', 'linux-x64-musl', 'linux-arm64-musl', 'darwin-arm64', 'darwin-x64', 'win32-x64', 'win32-arm64'];

interface LockEntry {
  version?: string;
  integrity?: string;
  resolved?: string;
}

/** npm's tarball path for a scoped package: `@scope/name/-/name-<version>.tgz`. */
export function npmTarballPath(packageName: string, version: string): string {
  return `${packageName}/-/${packageName.split('/').pop()}-${version}.tgz`;
}

/** The pins file from a lockfile's `packages`; `lookup` answers for platforms the lockfile lacks. */
export function pinsFromLockfile(lock: { packages: Record<string, LockEntry> }, lookup: (name: string, version: string) => LockEntry): BindingPinsFile {
  const version = lock.packages[`node_modules/${BINDINGS}`]?.version;
  if (!version) throw new Error(`package-lock.json has no ${BINDINGS}: run npm install first`);
  const pins = PINNED_PLATFORMS.map((platformId): BindingPin => {
    const packageName = `${BINDINGS}-${platformId}`;
    const locked = lock.packages[`node_modules/${packageName}`];
    const entry = locked?.version === version && locked.integrity ? locked : lookup(packageName, version);
    if (!entry.integrity?.startsWith('sha512-')) throw new Error(`${packageName}@${version} has no sha512 integrity`);
    return { platformId, packageName, version, tarballPath: npmTarballPath(packageName, version), integrity: entry.integrity };
  });
  return { version, pins };
}

function npmView(packageName: string, version: string): LockEntry {
  const json = execFileSync('npm', ['view', `${packageName}@${version}`, 'dist', '--json'], { encoding: 'utf8' });
  const dist = JSON.parse(json) as { integrity?: string; tarball?: string };
  return { version, integrity: dist.integrity, resolved: dist.tarball };
}

function checkAgainstRegistry(file: BindingPinsFile): string[] {
  return file.pins.flatMap((pin) => {
    const dist = npmView(pin.packageName, pin.version);
    const problems: string[] = [];
    if (dist.integrity !== pin.integrity) problems.push(`${pin.packageName}: registry integrity ${dist.integrity} ≠ pinned ${pin.integrity}`);
    if (!dist.resolved?.endsWith(`/${pin.tarballPath}`)) problems.push(`${pin.packageName}: registry tarball ${dist.resolved} ≠ pinned path ${pin.tarballPath}`);
    return problems;
  });
}

if (import.meta.main) {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
  const text = `${JSON.stringify(pinsFromLockfile(lock, npmView), null, 2)}\n`;
  const args = process.argv.slice(2);
  if (args.includes('--check') || args.includes('--check-registry')) {
    const problems = readFileSync(PINS_PATH, 'utf8') === text ? [] : [`${PINS_PATH} is stale: run node scripts/pin-duckdb-binding.ts`];
    if (args.includes('--check-registry')) problems.push(...checkAgainstRegistry(JSON.parse(text)));
    for (const problem of problems) console.error(problem);
    process.exit(problems.length ? 1 : 0);
  }
  writeFileSync(PINS_PATH, text);
  console.log(`pinned ${BINDINGS} ${JSON.parse(text).version} for ${PINNED_PLATFORMS.join(', ')} in ${PINS_PATH}`);
}
