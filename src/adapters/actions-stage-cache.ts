/**
 * A stage's `cache:` folders in the GitHub Actions cache (`@actions/cache`, results service v2): a
 * model folder a GPU stage reads is restored on each runner instead of downloaded again. Only
 * exact keys are restored (no prefix match): a key names one version of what is kept. Used only
 * where the runner offers the cache service (ACTIONS_RESULTS_URL and a runtime token).
 */
import { relative } from 'node:path';
import type { StageCache } from '../use-cases/run-deps.ts';

/** Whether this step can reach the Actions results service (artifacts and cache): the runner sets both for node actions. */
export function hasResultsService(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.ACTIONS_RESULTS_URL && env.ACTIONS_RUNTIME_TOKEN);
}

/**
 * The cache's version is a hash of the paths as given: relative to the working folder (the
 * checkout), so runners whose checkouts live in different folders share the entry.
 */
function asGiven(paths: readonly string[]): string[] {
  return paths.map((path) => relative(process.cwd(), path) || '.');
}

export function createActionsStageCache(): StageCache {
  // Imported on first use: the Azure and HTTP clients behind it cost load time on every run without a cache.
  const client = () => import('@actions/cache');
  return {
    async restore(paths, key) {
      const cache = await client();
      if (!cache.isFeatureAvailable()) return false;
      return (await cache.restoreCache(asGiven(paths), key)) === key;
    },
    async save(paths, key) {
      const cache = await client();
      if (!cache.isFeatureAvailable()) return;
      // saveCache logs a warning and returns -1 on most failures instead of throwing.
      const id = await cache.saveCache(asGiven(paths), key);
      if (id === -1) throw new Error('the Actions cache did not store it (see the warning above)');
    },
  };
}
