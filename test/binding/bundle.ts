/** Bundles open-duckdb-entry.ts as the Action's bundle is built: ESM, DuckDB's JS inside, its platform packages left out. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, stop } from 'esbuild';
import { actionBundleOptions } from '../../scripts/build-action.ts';

const ENTRY = join(import.meta.dirname, 'open-duckdb-entry.ts');

/** Writes `<dir>/open-duckdb.mjs`; the folder has no node_modules, so only the hook can supply the binding. */
export async function bundleOpenDuckDb(dir: string): Promise<string> {
  const outfile = join(dir, 'open-duckdb.mjs');
  // Exactly as dist/ is built: what the Action must not carry (DuckDB's platform packages) stays out.
  await build(actionBundleOptions(ENTRY, outfile));
  // esbuild keeps a service process for the next build; the test run would count it as left behind.
  await stop();
  return outfile;
}

export interface OpenResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the bundle in a fresh Node with `env` added; never rejects on a non-zero exit. */
export async function runOpenDuckDb(bundle: string, env: Record<string, string>): Promise<OpenResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [bundle], { cwd: join(bundle, '..'), env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? String(error) };
  }
}
