#!/usr/bin/env node
// weir runs its TypeScript sources directly on Node 24 (type stripping); older Node cannot.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(
    `weir needs Node 24 or newer (this is ${process.versions.node}). Run it as 'npx weir' from the project, ` +
      `which uses the Node that 'npm ci' installed, or install Node 24.`,
  );
  process.exit(2);
}
const { main } = await import('../src/entrypoints/cli.ts');
process.exitCode = await main(process.argv.slice(2));
