/**
 * Makes `@duckdb/node-api` load the binding unpacked in the tool cache. `@duckdb/node-bindings`
 * picks its platform package with a plain
 * `require('@duckdb/node-bindings-<platform>/duckdb.node')`, resolved from wherever that package
 * sits (node_modules, or the Action's bundle, which has none). A synchronous resolve hook
 * (`module.registerHooks`, public since Node 22.15/23.5, applied to require() and import alike)
 * answers that one package name with the tool cache folder; every other module resolves as usual.
 * No NODE_PATH or Module._resolveFilename patching, and nothing copied into a node_modules.
 * Call it before the first `import('@duckdb/node-api')` (openDuckDb imports it lazily).
 */
import * as nodeModule from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BindingHookUnavailableError } from './duckdb-binding-errors.ts';
import type { EnsuredBinding } from './duckdb-binding.ts';

/** Undoes the hook (tests; a process that switches bindings). */
export interface BindingHook {
  deregister(): void;
}

type RegisterHooks = (hooks: {
  resolve: (specifier: string, context: unknown, next: (specifier: string, context: unknown) => { url: string }) => { url: string; shortCircuit?: boolean };
}) => BindingHook;

/** Points `@duckdb/node-bindings-<platform>` (and its files) at `binding.packageDir`. */
export function useDuckDbBinding(binding: Pick<EnsuredBinding, 'pin' | 'packageDir'>): BindingHook {
  // Read off the namespace: on a Node without it, a named import would fail when the module loads.
  const registerHooks = (nodeModule as unknown as { registerHooks?: RegisterHooks }).registerHooks;
  if (!registerHooks) throw new BindingHookUnavailableError(process.version);
  const name = binding.pin.packageName;
  return registerHooks({
    resolve(specifier, context, next) {
      if (specifier !== name && !specifier.startsWith(`${name}/`)) return next(specifier, context);
      const file = specifier === name ? 'duckdb.node' : specifier.slice(name.length + 1);
      return { url: pathToFileURL(join(binding.packageDir, file)).href, shortCircuit: true };
    },
  });
}
