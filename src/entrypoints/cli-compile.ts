/** `weir compile [--check] [--action <ref>]`: pipelines → `.github/workflows/weir-*.yml`. */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { compileWorkflows, findStaleWorkflows, type StaleWorkflow, type WorkflowFile } from '../use-cases/compile.ts';
import type { WorkflowOptions } from '../use-cases/compile-workflows.ts';
import { validatePipelines } from '../use-cases/validate.ts';
import type { CliValues } from './cli.ts';
import { VERSION } from './cli-commands.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { printDiagnostics, rootOf, summarize } from './cli-pipelines.ts';

const WORKFLOWS_DIR = '.github/workflows';
/** Written when no `--action` is given; docs/workflows.md says to replace it (or pass `--action`). */
export const PLACEHOLDER_OWNER = 'OWNER';
const ACTION_MAJOR = 'v1';

export async function compileCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length) throw new UsageError(`'weir compile' takes no names: it compiles every pipeline in pipelines/ (got '${args.join(' ')}')`);
  const root = rootOf(values, io);
  const files = await generateWorkflows(root, values, io);
  if (!files) return EXIT.usage;
  const stale = findStaleWorkflows(files, await readWorkflowsOnDisk(root));
  if (values.check) return reportFreshness(files, stale, io);
  await applyChanges(root, files, stale, io);
  return EXIT.ok;
}

/** Validates and compiles every pipeline; prints the diagnostics and returns undefined when that fails. */
export async function generateWorkflows(root: string, values: CliValues, io: Io): Promise<WorkflowFile[] | undefined> {
  const validation = await validatePipelines({ root }, createCliDeps(root));
  if (!validation.ok) {
    // Warnings are 'weir validate's to show; compile speaks up only when it cannot go on.
    printDiagnostics(validation.diagnostics, root, io);
    io.err(`weir: ${summarize(validation.diagnostics)}; no workflow was written: fix the pipelines first`);
    return undefined;
  }
  const result = compileWorkflows({ pipelines: validation.pipelines, options: workflowOptions(values), now: new Date() });
  if (!result.ok) {
    printDiagnostics(result.diagnostics, root, io);
    io.err(`weir: ${summarize(result.diagnostics)}; no workflow was written`);
    return undefined;
  }
  return result.files;
}

export function workflowOptions(values: CliValues): WorkflowOptions {
  return {
    action: actionReference(values.action),
    regenerate: `npx weir compile${values.action ? ` --action ${values.action}` : ''}`,
    cliPackage: `weir-pipelines@${VERSION}`,
  };
}

/** `--action`: `./` (weir's own repository), `owner`, `owner/repo` or `owner/repo@ref`. */
export function actionReference(value: string | undefined): string {
  const given = value?.trim() || PLACEHOLDER_OWNER;
  if (given === './' || given === '.') return './';
  if (!/^[\w.-]+(\/[\w.-]+)?(@[\w./-]+)?$/.test(given)) {
    throw new UsageError(`--action '${given}' is not an action reference: pass './', an owner (acme), owner/repo or owner/repo@ref`);
  }
  const withRepo = given.includes('/') ? given : `${given}/weir`;
  return withRepo.includes('@') ? withRepo : `${withRepo}@${ACTION_MAJOR}`;
}

async function readWorkflowsOnDisk(root: string): Promise<Map<string, string>> {
  const onDisk = new Map<string, string>();
  const names = await readdir(join(root, WORKFLOWS_DIR)).catch(() => [] as string[]);
  for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
    onDisk.set(`${WORKFLOWS_DIR}/${name}`, await readFile(join(root, WORKFLOWS_DIR, name), 'utf8'));
  }
  return onDisk;
}

function reportFreshness(files: readonly WorkflowFile[], stale: readonly StaleWorkflow[], io: Io): number {
  if (stale.length === 0) {
    io.out(`${files.length} workflow${files.length === 1 ? '' : 's'} fresh`);
    return EXIT.ok;
  }
  for (const entry of stale) io.out(entry.diff);
  const list = stale.map((s) => `${s.path} (${s.reason})`).join(', ');
  io.err(`weir: ${stale.length} generated workflow${stale.length === 1 ? ' is' : 's are'} stale: ${list}; run 'npx weir compile' and commit the result`);
  return EXIT.failed;
}

async function applyChanges(root: string, files: readonly WorkflowFile[], stale: readonly StaleWorkflow[], io: Io): Promise<void> {
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const entry of stale) {
    const target = join(root, entry.path);
    if (entry.reason === 'orphaned') {
      await rm(target, { force: true });
      io.out(`removed ${entry.path} (its pipeline no longer has a schedule or params)`);
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, byPath.get(entry.path)?.text ?? '');
    io.out(`${entry.reason === 'missing' ? 'created' : 'updated'} ${entry.path}`);
  }
  const unchanged = files.length - stale.filter((s) => s.reason !== 'orphaned').length;
  io.out(`${files.length} workflow${files.length === 1 ? '' : 's'} generated, ${unchanged} unchanged`);
  if (files.some((f) => f.text.includes(`uses: ${PLACEHOLDER_OWNER}/`))) {
    io.err(`note: the workflows use '${PLACEHOLDER_OWNER}/weir@${ACTION_MAJOR}': run 'weir compile --action <owner>' with the owner of your weir action`);
  }
}
