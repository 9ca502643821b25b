/**
 * The run-time settings of ensureDuckDbBinding from a runner's environment, for the Action's
 * composition root: where the tool cache and temp folders are, and which registry to download from
 * (the `duckdb-registry` input, or WEIR_DUCKDB_REGISTRY for self-hosted runners behind a mirror).
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_REGISTRY, type Libc } from './duckdb-binding-pins.ts';

export interface BindingSettings {
  toolCacheDir: string;
  tempDir: string;
  registry: string;
  platform: string;
  arch: string;
  libc: Libc;
}

/** RUNNER_TOOL_CACHE, RUNNER_TEMP, `INPUT_DUCKDB-REGISTRY` / WEIR_DUCKDB_REGISTRY, this process's platform. */
export function bindingSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): BindingSettings {
  const temp = env.RUNNER_TEMP || tmpdir();
  return {
    toolCacheDir: env.RUNNER_TOOL_CACHE || join(temp, 'weir-tool-cache'),
    tempDir: temp,
    // The runner passes inputs as INPUT_<NAME> with the name upper-cased, dashes kept.
    registry: env['INPUT_DUCKDB-REGISTRY']?.trim() || env.WEIR_DUCKDB_REGISTRY?.trim() || DEFAULT_REGISTRY,
    platform: process.platform,
    arch: process.arch,
    libc: detectLibc(),
  };
}

/**
 * glibc or musl, as detect-libc (which DuckDB's loader uses) decides first: Node's own report names
 * the glibc it runs on, and has no such field under musl.
 */
export function detectLibc(): Libc {
  if (process.platform !== 'linux') return 'glibc';
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime ? 'glibc' : 'musl';
}
