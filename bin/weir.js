#!/usr/bin/env node
// The `weir` command. Plain JavaScript with no named imports: it must parse and reach the version
// check on any Node, so an old Node prints one clear line instead of a SyntaxError (issue 8).
import * as nodeModule from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Oldest Node weir runs on; package.json `engines` says the same (a test keeps them equal). */
const MINIMUM_NODE = [22, 12];

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MINIMUM_NODE[0] || (major === MINIMUM_NODE[0] && minor < MINIMUM_NODE[1])) {
  console.error(`weir needs Node ${MINIMUM_NODE.join('.')} or newer (this is Node ${process.versions.node}): install Node 22 or 24.`);
  process.exit(2);
}

// V8's code cache on disk: later starts skip compiling the bundle (about 40 ms a command).
nodeModule.enableCompileCache?.();

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(root, 'lib', 'weir.mjs');
// The bundle whenever it exists (npm ci, npm test and npm pack build it); the TypeScript sources
// only when asked, as they need type stripping and load ~70 modules instead of one file.
const fromSource = process.env.WEIR_FROM_SOURCE === '1';
if (!fromSource && !existsSync(bundle)) {
  console.error(`weir: ${bundle} is missing: run 'npm run build' in ${root}, or set WEIR_FROM_SOURCE=1 to run the sources.`);
  process.exit(2);
}
if (!fromSource) {
  const { mapBundleStacks } = await import('./source-map-stacks.js');
  mapBundleStacks(bundle);
}
const entry = fromSource ? join(root, 'src', 'entrypoints', 'cli.ts') : bundle;
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
