/**
 * The file operations the ledger is built from. Each durable write goes to a temp file in the same
 * folder (same filesystem, so rename and link are atomic), is fsynced, moved into place, and the
 * folder is fsynced so the new name survives a power cut too. Readers never see half a file.
 *
 * Hand-written rather than `write-file-atomic`: that package renames (clobbers) and does not fsync
 * the folder; write-once records need `link()`, which fails instead of replacing.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LedgerFileError } from './errors.ts';

/** Every temp file ends so; `sweepStaleTemps` removes the ones a killed writer left. */
export const TEMP_SUFFIX = '.tmp';

function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException)?.code === code;
}

export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Creates `dir` and fsyncs the folders that got a new entry, so the new folder itself is durable. */
export async function ensureDir(dir: string): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === first) break;
  }
}

async function writeTemp(path: string, data: string): Promise<string> {
  await ensureDir(dirname(path));
  const temp = tempPathFor(path);
  const handle = await open(temp, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  return temp;
}

/** Replaces `path` atomically and durably. */
export async function writeFileDurable(path: string, data: string): Promise<void> {
  const temp = await writeTemp(path, data);
  try {
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await fsyncDir(dirname(path));
}

/** Creates `path` atomically and durably unless it exists; false (and nothing written) if it does. */
export async function createFileExclusive(path: string, data: string): Promise<boolean> {
  const temp = await writeTemp(path, data);
  let created = true;
  try {
    await link(temp, path);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
    created = false;
  } finally {
    await rm(temp, { force: true });
  }
  await fsyncDir(dirname(path));
  return created;
}

/** Removes `path` (absent is fine) and fsyncs its folder. */
export async function removeDurable(path: string): Promise<void> {
  await rm(path, { force: true });
  await fsyncDir(dirname(path)).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error;
  });
}

export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

export async function readJsonIfExists<T>(path: string): Promise<T | undefined> {
  const text = await readTextIfExists(path);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new LedgerFileError(path, error);
  }
}

export async function listIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT') || isErrno(error, 'ENOTDIR')) return [];
    throw error;
  }
}

export async function existsFile(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return false;
    throw error;
  }
}

/**
 * Removes a file judged stale without ever removing a fresh one: the file is moved aside, and only
 * deleted if what was moved is the content judged; otherwise it is linked back (link never replaces
 * a file that someone created meanwhile). True when `path` is now free.
 */
export async function takeOverStaleFile(path: string, judged: string): Promise<boolean> {
  const aside = tempPathFor(path);
  try {
    await rename(path, aside);
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return true;
    throw error;
  }
  const moved = await readTextIfExists(aside);
  if (moved === judged) {
    await removeDurable(aside);
    return true;
  }
  await link(aside, path).catch((error: unknown) => {
    if (!isErrno(error, 'EEXIST')) throw error;
  });
  await rm(aside, { force: true });
  return false;
}

/** Removes temp files older than `maxAgeMs` that killed writers left in `dir`; returns their names. */
export async function sweepStaleTemps(dir: string, nowMs: number, maxAgeMs: number): Promise<string[]> {
  const swept: string[] = [];
  for (const name of await listIfExists(dir)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const info = await stat(join(dir, name)).catch(() => undefined);
    if (info && nowMs - info.mtimeMs > maxAgeMs) {
      await rm(join(dir, name), { force: true });
      swept.push(name);
    }
  }
  return swept;
}
