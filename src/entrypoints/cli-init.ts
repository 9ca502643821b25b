/** `weir init [--force]`: scaffold a project in the current folder (or --root), then compile its workflows. */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { VALIDATE_WORKFLOW_PATH, workflowPath } from '../use-cases/compile-workflows.ts';
import { EXAMPLE_PIPELINE, starterFiles, withGitignoreEntries } from '../use-cases/init.ts';
import type { CliValues } from './cli.ts';
import { generateWorkflows } from './cli-compile.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';

export async function initCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length) throw new UsageError(`'weir init' takes no arguments (got '${args.join(' ')}'): it scaffolds the current folder, or --root <dir>`);
  const root = rootOf(values, io);
  const files = starterFiles();
  // Refuse before writing anything: a half-scaffolded project is worse than none.
  const planned = [...files.map((f) => f.path), workflowPath(EXAMPLE_PIPELINE), VALIDATE_WORKFLOW_PATH];
  const existing = planned.filter((path) => existsSync(join(root, path)));
  if (existing.length && !values.force) {
    throw new UsageError(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${root}: nothing was written; pass --force to overwrite ${existing.length === 1 ? 'it' : 'them'}`);
  }
  for (const file of files) {
    await mkdir(dirname(join(root, file.path)), { recursive: true });
    await writeFile(join(root, file.path), file.text);
    io.out(`created ${file.path}`);
  }
  await updateGitignore(root, io);
  const workflows = await generateWorkflows(root, values, io);
  if (!workflows) return EXIT.usage;
  // Workflows of other pipelines compiled before stay as they are without --force.
  for (const workflow of workflows) {
    const target = join(root, workflow.path);
    if (existsSync(target) && !values.force) continue;
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, workflow.text);
    io.out(`created ${workflow.path}`);
  }
  io.out(`next: npx weir validate && npx weir run ${EXAMPLE_PIPELINE}; commit, and set --action <owner> in 'npx weir compile' (docs/workflows.md)`);
  return EXIT.ok;
}

async function updateGitignore(root: string, io: Io): Promise<void> {
  const path = join(root, '.gitignore');
  const current = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const next = withGitignoreEntries(current);
  if (next === undefined) return;
  await writeFile(path, next);
  io.out(`${current === undefined ? 'created' : 'updated'} .gitignore`);
}
