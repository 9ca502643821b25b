/**
 * Bundles the GitHub Action into dist/index.js (committed: the runner runs it as it is, with no
 * install step). esbuild, not @vercel/ncc: ncc's TypeScript loader fails with TypeScript 7, and
 * esbuild already bundles the CLI (scripts/build.ts), so both bundles come from one tool.
 * DuckDB's JavaScript is bundled; only its native platform packages (`@duckdb/node-bindings-*`,
 * ~70 MB each) stay external and never enter git: a run fetches the pinned one on first use
 * (src/entrypoints/action-duckdb.ts). Validation never loads DuckDB.
 * The output is byte-for-byte reproducible: test/action/dist-fresh.test.ts rebuilds it and compares.
 * Usage: node scripts/build-action.ts [outfile]   (default dist/index.js)
 */
import { build, type BuildOptions } from 'esbuild';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the committed bundle lives (action.yml `runs.main`). */
export const ACTION_BUNDLE = join(root, 'dist', 'index.js');

/** How the Action is bundled; tests bundle their own entry points the same way (test/binding/bundle.ts). */
export function actionBundleOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    // action.yml runs it with `using: node24`.
    target: 'node24',
    external: ['@duckdb/node-bindings-*'],
    // Some dependencies are CommonJS and call require(); give the ESM bundle one.
    banner: { js: "import { createRequire as weirCreateRequire } from 'node:module'; const require = weirCreateRequire(import.meta.url);" },
    minify: true,
    // Error class names are data: the ledger records `error.name`.
    keepNames: true,
    legalComments: 'linked',
    // Absolute paths would differ between checkouts; the bundle must not.
    absWorkingDir: root,
    logLevel: 'warning',
  };
}

export async function buildAction(outfile: string = ACTION_BUNDLE): Promise<void> {
  await build(actionBundleOptions(join(root, 'src', 'entrypoints', 'action.ts'), outfile));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await buildAction(process.argv[2] ? resolve(process.argv[2]) : undefined);
}
