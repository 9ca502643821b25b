/**
 * Bundles the CLI into lib/weir.mjs with esbuild. Node 24 can run src/ directly, but loading ~70
 * TypeScript modules costs ~150 ms per command; one bundled file loads in a fraction of that.
 * bin/weir.js uses the bundle only while it is newer than every file in src/.
 * DuckDB stays external: it is a native module resolved from node_modules at run time.
 */
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [join(root, 'src', 'entrypoints', 'cli.ts')],
  outfile: join(root, 'lib', 'weir.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  external: ['@duckdb/node-api'],
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as weirCreateRequire } from 'node:module'; const require = weirCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  minify: true,
  logLevel: 'warning',
});
