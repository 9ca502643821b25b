/**
 * Probes `weir doctor` asks of this machine besides the GPU (hardware.ts): does the DuckDB binding
 * load, and which version; does git run, is the folder a checkout, is the ledger branch here.
 * Each answers with data and never throws.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { DuckDbProbe, GitProbe } from '../use-cases/doctor.ts';
import { openDuckDb } from './duckdb.ts';
import { platformIdOf } from './duckdb-binding-pins.ts';
import { Git } from './git.ts';

/** Opens an in-memory database and asks its version; names the platform package it loaded from when it can. */
export async function probeDuckDb(): Promise<DuckDbProbe> {
  try {
    const db = await openDuckDb(':memory:');
    try {
      const version = String(await db.scalar('SELECT version()'));
      return { loads: true, version, ...bindingPackage() };
    } finally {
      await db.close();
    }
  } catch (error) {
    return { loads: false, error: (error as Error)?.message ?? String(error) };
  }
}

function bindingPackage(): { binding?: string } {
  const name = `@duckdb/node-bindings-${platformIdOf(process.platform, process.arch, isMusl() ? 'musl' : 'glibc')}`;
  try {
    const require = createRequire(import.meta.url);
    const manifest = require.resolve(`${name}/package.json`);
    const { version } = require(manifest) as { version: string };
    return { binding: `${name}@${version} in ${dirname(manifest)}` };
  } catch {
    // bundled, or resolved by a hook (the Action): the version above is what matters
    return {};
  }
}

function isMusl(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return process.platform === 'linux' && report?.header?.glibcVersionRuntime === undefined;
}

/** git's version, whether `dir` is in a work tree, and where the ledger branch exists. */
export async function probeGit(dir: string, ledgerBranch: string): Promise<GitProbe> {
  const git = new Git(dir, '');
  const absent: GitProbe = { checkout: false, ledgerBranch: { local: false, origin: false } };
  const version = await git.run(['--version']).then((r) => r.stdout.trim().replace(/^git version /, ''), () => undefined);
  if (version === undefined) return absent;
  const checkout = await git.run(['rev-parse', '--is-inside-work-tree']).then((r) => r.stdout.trim() === 'true', () => false);
  if (!checkout) return { ...absent, version };
  const has = (ref: string) => git.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).then(() => true, () => false);
  const [local, origin] = await Promise.all([has(`refs/heads/${ledgerBranch}`), has(`refs/remotes/origin/${ledgerBranch}`)]);
  return { version, checkout, ledgerBranch: { local, origin } };
}
