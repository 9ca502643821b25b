#!/usr/bin/env node
// weir runs on Node 24 or newer: it needs type stripping to run from source, and GitHub runs actions on 24.
import { readdirSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `weir needs Node 24 or newer (this is ${process.versions.node}). Run it as 'npx weir' from the project, ` +
      `which uses the Node that 'npm ci' installed, or install Node 24.`,
  );
  process.exit(2);
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// V8's code cache on disk: later starts skip compiling the ~1.5 MB bundle (about 40 ms a command).
enableCompileCache();

/** The bundle (built by `npm ci`/`npm run build`) when it is newer than every source file. */
function freshBundle() {
  const bundle = join(root, 'lib', 'weir.mjs');
  let built;
  try {
    built = statSync(bundle).mtimeMs;
  } catch {
    return undefined;
  }
  const sources = readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true });
  const stale = sources.some((entry) => entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > built);
  return stale || process.env.WEIR_FROM_SOURCE ? undefined : bundle;
}

const entry = freshBundle() ?? join(root, 'src', 'entrypoints', 'cli.ts');
const { main } = await import(entry);
process.exitCode = await main(process.argv.slice(2));
