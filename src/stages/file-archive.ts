/**
 * Moving processed files into an archive folder without ever losing or overwriting one. A move is a
 * hard link plus unlink (atomic, and fails instead of overwriting), falling back to an exclusive
 * copy plus unlink across devices; the source is removed only once the copy is complete.
 */
import { constants } from 'node:fs';
import { copyFile, link, mkdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Gives up after this many taken names: something is wrong with the archive folder. */
const MAX_SUFFIX = 10_000;

/** `name.csv` → `name-1.csv`; keeps compression suffixes together (`name-1.csv.gz`). */
export function withSuffix(path: string, n: number): string {
  const name = basename(path);
  const ext = /(\.[A-Za-z0-9]+)?(\.(?:gz|zst|bz2|xz))?$/.exec(name)?.[0] ?? '';
  const stem = ext === name ? name : name.slice(0, name.length - ext.length);
  return join(dirname(path), `${stem}-${n}${ext}`);
}

/**
 * Picks the first archive destination for `file` that is neither taken on disk nor reserved by an
 * earlier file of the same batch (two `x.csv` from different folders).
 */
export function planDestination(file: string, archiveDir: string, isTaken: (path: string) => boolean): string {
  const first = join(archiveDir, basename(file));
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const candidate = n === 0 ? first : withSuffix(first, n);
    if (!isTaken(candidate)) return candidate;
  }
  throw new Error(`more than ${MAX_SUFFIX} files named ${basename(file)} in ${archiveDir}`);
}

/**
 * Moves `from` to `to`, or to the next free suffix if `to` was taken meanwhile. Returns where the
 * file went. Never overwrites; never removes `from` before the data exists at the destination.
 */
export async function moveWithoutOverwrite(from: string, to: string): Promise<string> {
  await mkdir(dirname(to), { recursive: true });
  for (let n = 0; n <= MAX_SUFFIX; n++) {
    const target = n === 0 ? to : withSuffix(to, n);
    try {
      await placeExclusively(from, target);
      await unlink(from);
      return target;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new Error(`more than ${MAX_SUFFIX} files named ${basename(to)} in ${dirname(to)}`);
}

/** Puts a copy of `from` at `to`, failing with EEXIST if `to` exists. */
async function placeExclusively(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // EXDEV: another device; EPERM/ENOTSUP: a file system without hard links.
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error;
    try {
      await copyFile(from, to, constants.COPYFILE_EXCL);
    } catch (copyError) {
      // A half-written copy (disk full) must not sit in the archive looking like the real file.
      if ((copyError as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(to).catch(() => {});
      throw copyError;
    }
  }
}
