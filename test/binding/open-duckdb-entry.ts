/**
 * What the Action does before its first query, as a separate program: bundled by
 * bundleOpenDuckDb (load-binding.test.ts, bench/binding.ts) into a folder with no node_modules,
 * like dist/, it obtains the binding, points DuckDB at it and runs `select 42`.
 * Prints {"source", "rows"} on stdout; on failure the error's name and message on stderr, exit 1.
 * Settings come from WEIR_BINDING_* variables (below); WEIR_BINDING_HOOK=0 skips the hook.
 */
import { cp, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDuckDbBinding, type BindingCache } from '../../src/adapters/duckdb-binding.ts';
import { useDuckDbBinding } from '../../src/adapters/duckdb-binding-hook.ts';

const env = process.env;

/** A cache kept in a folder (one subfolder per key): the bench's stand-in for @actions/cache across processes. */
function folderCache(root: string): BindingCache {
  return {
    async restore(key, dir) {
      try {
        await cp(join(root, key), dir, { recursive: true });
        return true;
      } catch {
        return false;
      }
    },
    async save(key, dir) {
      await rm(join(root, key), { recursive: true, force: true });
      await mkdir(root, { recursive: true });
      await cp(dir, join(root, key), { recursive: true });
    },
  };
}

try {
  const binding = await ensureDuckDbBinding({
    platform: process.platform,
    arch: process.arch,
    toolCacheDir: env.WEIR_BINDING_TOOL_CACHE!,
    tempDir: env.WEIR_BINDING_TEMP!,
    registry: env.WEIR_BINDING_REGISTRY!,
    pins: env.WEIR_BINDING_PINS ? JSON.parse(env.WEIR_BINDING_PINS) : undefined,
    cache: env.WEIR_BINDING_CACHE_DIR ? folderCache(env.WEIR_BINDING_CACHE_DIR) : undefined,
    fetch: globalThis.fetch,
    timeoutMs: 30_000,
    onWarning: (message) => console.error(`warning: ${message}`),
  });
  if (env.WEIR_BINDING_HOOK !== '0') useDuckDbBinding(binding);
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const reader = await connection.runAndReadAll('select 42 as n');
  console.log(JSON.stringify({ source: binding.source, rows: reader.getRowObjectsJson() }));
  connection.closeSync();
  instance.closeSync();
} catch (error) {
  console.error(`${(error as Error).name}: ${(error as Error).message}`);
  process.exitCode = 1;
}
