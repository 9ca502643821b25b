/**
 * Containment of the paths a pipeline writes (export files, archive folders, reports): they must
 * stay inside the project root, after `..`, absolute paths and symbolic links are resolved, unless
 * weir.yml's `allow_write_paths` lists the folder. `weir validate` checks the paths as written;
 * stage kinds check again at run time, after templating, right before writing.
 *
 * Reads the file system (realpath of the deepest existing ancestor) and never writes: a path that
 * does not exist yet is judged by the folder it would be created in.
 */
import { lstatSync, realpathSync } from 'node:fs';
import path from 'node:path';

export type WritePathResult =
  | { ok: true; /** Absolute path with every existing symbolic link resolved. */ resolved: string }
  | { ok: false; resolved: string; /** Why the path is refused, in words for a message. */ reason: string };

/** The file system calls containment needs; injectable for tests. */
export interface WritePathFs {
  /** Whether something (a file, a folder, a symbolic link, even a dangling one) is at `p`. */
  exists(p: string): boolean;
  realpath(p: string): string;
}

const nodeFs: WritePathFs = {
  exists: (p) => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false;
    }
  },
  realpath: (p) => realpathSync.native(p),
};

/**
 * Where `target` (relative to `root`, or absolute) would be written, and whether that is inside
 * `root` or one of the `allowed` folders (relative to `root`, or absolute).
 */
export function resolveWritePath(root: string, target: string, allowed: readonly string[] = [], fs: WritePathFs = nodeFs): WritePathResult {
  let resolved: string;
  try {
    resolved = realPathOf(path.resolve(root, target), fs);
  } catch {
    return { ok: false, resolved: path.resolve(root, target), reason: 'it goes through a symbolic link whose target does not exist' };
  }
  const folders = [root, ...allowed.map((folder) => path.resolve(root, folder))];
  for (const folder of folders) {
    let realFolder: string;
    try {
      realFolder = realPathOf(folder, fs);
    } catch {
      continue;
    }
    if (isInside(resolved, realFolder)) return { ok: true, resolved };
  }
  const how = path.isAbsolute(target)
    ? 'it is an absolute path'
    : target.split(/[\\/]/).includes('..')
      ? "its '..' segments lead"
      : 'a symbolic link in it leads';
  return { ok: false, resolved, reason: `${how} outside the project root` };
}

/** Whether `child` is `parent` or lies under it (both absolute and resolved). */
export function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (relative !== '..' && !relative.startsWith(`..${path.sep}`) && !path.isAbsolute(relative));
}

/**
 * The real path of `absolute`: the deepest ancestor that exists, with its links resolved, joined
 * with the parts that do not exist yet. Throws when an existing link dangles (writing through it
 * would create its target, wherever that is).
 */
function realPathOf(absolute: string, fs: WritePathFs): string {
  const missing: string[] = [];
  let current = path.normalize(absolute);
  while (!fs.exists(current)) {
    const parent = path.dirname(current);
    if (parent === current) break;
    missing.unshift(path.basename(current));
    current = parent;
  }
  return path.join(fs.realpath(current), ...missing);
}
