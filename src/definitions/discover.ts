/**
 * Finding pipeline files: the paths given on the command line (folders hold pipelines, one level
 * deep), or one pipeline by name.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** Folder, relative to the project root, where pipelines live by convention. */
export const PIPELINES_DIR = 'pipelines';

const PIPELINE_FILE = /\.ya?ml$/;

/** A path given to weir does not exist. */
export class PipelinePathNotFoundError extends Error {
  readonly path: string;
  constructor(givenPath: string, root: string) {
    super(`'${givenPath}' does not exist (looked in ${root}): pass a pipeline file or a folder of them, relative to the project root`);
    this.name = 'PipelinePathNotFoundError';
    this.path = givenPath;
  }
}

/**
 * The pipeline files under `paths` (relative to `root`, or absolute), sorted and without duplicates.
 * A folder yields its `*.yml` / `*.yaml` files, not recursively, skipping names starting with `_`
 * (shared fragments, drafts). Returned paths are relative to `root` when inside it.
 */
export async function discoverPipelineFiles(paths: readonly string[], root: string): Promise<string[]> {
  const found = new Set<string>();
  for (const given of paths.length > 0 ? paths : [PIPELINES_DIR]) {
    const absolute = path.resolve(root, given);
    const info = await stat(absolute).catch(() => undefined);
    if (!info) throw new PipelinePathNotFoundError(given, root);
    if (!info.isDirectory()) {
      found.add(relativeToRoot(absolute, root));
      continue;
    }
    for (const entry of await readdir(absolute, { withFileTypes: true })) {
      if (entry.isFile() && PIPELINE_FILE.test(entry.name) && !entry.name.startsWith('_')) {
        found.add(relativeToRoot(path.join(absolute, entry.name), root));
      }
    }
  }
  return [...found].sort();
}

function relativeToRoot(absolute: string, root: string): string {
  const relative = path.relative(root, absolute);
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative.split(path.sep).join('/');
}

export type FindPipelineResult = { found: true; file: string } | { found: false; knownNames: string[] };

/**
 * Resolves `nameOrPath`: an existing file path; else `pipelines/<name>.yml|yaml`; else the file in
 * pipelines/ whose `name:` is `nameOrPath`. When nothing matches, the known names come back so
 * the caller can suggest one.
 */
export async function findPipeline(nameOrPath: string, root: string): Promise<FindPipelineResult> {
  const direct = path.resolve(root, nameOrPath);
  if ((await stat(direct).catch(() => undefined))?.isFile()) return { found: true, file: relativeToRoot(direct, root) };
  for (const extension of ['.yml', '.yaml']) {
    const candidate = path.join(root, PIPELINES_DIR, `${nameOrPath}${extension}`);
    if ((await stat(candidate).catch(() => undefined))?.isFile()) return { found: true, file: relativeToRoot(candidate, root) };
  }
  const files = await discoverPipelineFiles([PIPELINES_DIR], root).catch(() => []);
  const knownNames: string[] = [];
  for (const file of files) {
    const name = await readPipelineName(path.resolve(root, file));
    if (name === nameOrPath) return { found: true, file };
    knownNames.push(name ?? path.basename(file).replace(PIPELINE_FILE, ''));
  }
  return { found: false, knownNames: [...new Set(knownNames)].sort() };
}

// Reads only the top-level `name:` line: a cheap scan, not a validation (weir validate does that).
async function readPipelineName(file: string): Promise<string | undefined> {
  const text = await readFile(file, 'utf8');
  const match = /^name:[ \t]*(['"]?)([^'"#\r\n]+?)\1[ \t]*(?:#.*)?$/m.exec(text);
  return match?.[2];
}
