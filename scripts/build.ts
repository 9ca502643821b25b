/**
 * Bundles the CLI into lib/weir.mjs with esbuild. Node 24 can run src/ directly, but loading ~70
 * TypeScript modules costs ~150 ms per command; one bundled file loads in a fraction of that.
 * bin/weir.js uses the bundle whenever it exists (sources only with WEIR_FROM_SOURCE=1): npm ci
 * (prepare), npm test (global setup), npm pack (prepack) and npm run bench build it first.
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
  // The oldest Node in package.json `engines`: esbuild lowers newer syntax (`using`, …) for it.
  target: 'node22.12',
  // Loaded only when needed, resolved from node_modules then, so other commands do not parse them:
  // vega, vega-lite (report charts) and nodemailer (email) when a report draws a chart or an email
  // goes out (~1.5 MB); @actions/github (Octokit, undici: ~575 KB) by `weir reports` alone;
  // @actions/cache (Azure storage client: ~1.3 MB) by a stage's `cache:` and kept run folders, in Actions only.
  external: ['@duckdb/node-api', 'vega', 'vega-lite', 'nodemailer', '@actions/github', '@actions/cache'],
  // Some dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as weirCreateRequire } from 'node:module'; const require = weirCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  sourcesContent: false,
  minify: true,
  // Error class names are data: the ledger records `error.name` (StageFailedError, not `X`).
  keepNames: true,
  logLevel: 'warning',
});
