/**
 * The BindingCache of the Action: `@actions/cache` (results service v2). The tarball folder is
 * saved under a key holding the pin's integrity; whatever comes back is verified again by
 * ensureDuckDbBinding before it is unpacked, so this adapter trusts nothing it restores.
 * Built by the Action's composition root only (src/entrypoints/action.ts).
 */
import type { BindingCache } from './duckdb-binding.ts';

/** The cache, or undefined where the runner offers none (no ACTIONS_RESULTS_URL: local runs, GHES). */
export async function createActionsBindingCache(): Promise<BindingCache | undefined> {
  // Imported lazily: the Azure and HTTP clients behind it cost load time on every other command.
  const cache = await import('@actions/cache');
  if (!cache.isFeatureAvailable()) return undefined;
  return {
    async restore(key, dir) {
      // restoreCache also matches key prefixes: a longer key is fine, its bytes are verified anyway.
      return (await cache.restoreCache([dir], key)) !== undefined;
    },
    async save(key, dir) {
      // saveCache logs a warning and returns -1 on most failures instead of throwing.
      const id = await cache.saveCache([dir], key);
      if (id === -1) throw new Error(`the Actions cache did not store ${key} (see the warning above)`);
    },
  };
}
