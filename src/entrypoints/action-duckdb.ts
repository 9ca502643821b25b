/**
 * DuckDB for the Action. `dist/` does not carry DuckDB's native binding (~70 MB per platform, never
 * in git): when the runner's checkout has none in `node_modules`, it is fetched from the npm
 * registry (or a mirror), verified against the pinned integrity, unpacked into the tool cache
 * (restored from the Actions cache on later runs) and DuckDB is pointed at it. See docs/duckdb-binding.md.
 */
import { createRequire } from 'node:module';
import { ensureDuckDbBinding } from '../adapters/duckdb-binding.ts';
import { createActionsBindingCache } from '../adapters/duckdb-binding-actions-cache.ts';
import { useDuckDbBinding } from '../adapters/duckdb-binding-hook.ts';
import { pickBindingPin } from '../adapters/duckdb-binding-pins.ts';
import { bindingSettingsFromEnv } from '../adapters/duckdb-binding-settings.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';

/** Whether the platform package resolves from here (a checkout that installed weir, or this repository). */
function isInstalled(packageName: string): boolean {
  try {
    createRequire(import.meta.url).resolve(`${packageName}/package.json`);
    return true;
  } catch {
    return false;
  }
}

export async function prepareDuckDb(env: NodeJS.ProcessEnv, runtime: Pick<ActionsRuntime, 'info' | 'warning'>): Promise<void> {
  const settings = bindingSettingsFromEnv(env);
  const pin = pickBindingPin(settings.platform, settings.arch, settings.libc);
  if (isInstalled(pin.packageName)) return;
  const binding = await ensureDuckDbBinding({ ...settings, fetch: globalThis.fetch, cache: await createActionsBindingCache(), onWarning: runtime.warning });
  useDuckDbBinding(binding);
  runtime.info(`DuckDB binding ${pin.packageName}@${pin.version} from the ${binding.source}`);
}
