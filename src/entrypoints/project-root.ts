/**
 * Finding the project root, as git and dbt do: from the current folder up to the nearest folder
 * holding `weir.yml` or `pipelines/`. `--root` names it explicitly.
 */
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from './cli-io.ts';

/** What marks a folder as a weir project. */
const MARKERS = ['weir.yml', 'pipelines'] as const;

function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

function isProject(dir: string): boolean {
  return MARKERS.some((marker) => statSync(join(dir, marker), { throwIfNoEntry: false }) !== undefined);
}

/** The nearest folder from `start` up to the file-system root that is a project, or undefined. */
export function tryFindProjectRoot(start: string): string | undefined {
  for (let dir = resolve(start); ; dir = dirname(dir)) {
    if (isProject(dir)) return dir;
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * The project root for a command: `--root` when given (it must be a folder), else the nearest
 * project folder up from `cwd`. Throws a UsageError saying how to fix it when there is none.
 */
export function resolveProjectRoot(cwd: string, rootOption: string | undefined): string {
  if (rootOption !== undefined) {
    const root = resolve(cwd, rootOption);
    if (!isDirectory(root)) throw new UsageError(`--root '${rootOption}' is not a folder (resolved to ${root}): pass the folder that holds pipelines/`);
    return root;
  }
  const found = tryFindProjectRoot(cwd);
  if (found === undefined) {
    throw new UsageError(
      `no weir project in ${cwd} or any folder above it (a project holds pipelines/ or weir.yml): ` +
        `cd into your project, pass --root <dir>, or start one with 'mkdir pipelines'`,
    );
  }
  return found;
}
