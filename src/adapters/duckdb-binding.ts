/**
 * DuckDB's native binding for the packaged Action, which must not carry it (~70 MB per platform,
 * never in git history): on first use the pinned `@duckdb/node-bindings-<platform>` tarball comes
 * from the Actions cache or the npm registry (or a mirror), its sha512 is checked against the pin
 * taken from package-lock.json at build time, and it is unpacked into the runner's tool cache:
 *
 *   <toolCacheDir>/weir-duckdb/<version>/<platformId>/duckdb.node
 *
 * The cache holds the verified tarball, not the unpacked folder: what comes back from it is checked
 * against the pin like a download, so a poisoned or truncated cache entry is never loaded.
 * useDuckDbBinding (duckdb-binding-hook.ts) then makes `@duckdb/node-api` load that file.
 */
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from 'tar';
import { BindingUnpackError } from './duckdb-binding-errors.ts';
import { assertFileIntegrity, downloadVerified, type DownloadOptions } from './duckdb-binding-download.ts';
import { DEFAULT_REGISTRY, pickBindingPin, tarballUrl, type BindingPin, type BindingPinsFile, type Libc } from './duckdb-binding-pins.ts';

/** A store that outlives the runner (the real one is @actions/cache): saves and restores a folder. */
export interface BindingCache {
  /** Restores the folder saved under `key` into `dir`; false when there is no such entry. */
  restore(key: string, dir: string): Promise<boolean>;
  save(key: string, dir: string): Promise<void>;
}

export interface EnsureBindingOptions extends Omit<DownloadOptions, 'fetch'> {
  /** `process.platform`, `process.arch`; `libc` matters on Linux only (default glibc). */
  platform: string;
  arch: string;
  libc?: Libc;
  /** RUNNER_TOOL_CACHE on a runner. */
  toolCacheDir: string;
  /** Registry root or mirror; default https://registry.npmjs.org. */
  registry?: string;
  fetch: typeof globalThis.fetch;
  /** Optional: without it every fresh runner downloads. */
  cache?: BindingCache;
  /** Where the tarball waits while it is verified (RUNNER_TEMP on a runner); default os.tmpdir(). */
  tempDir?: string;
  /** Optional steps that fail (cache restore/save) warn here and go on. */
  onWarning?: (message: string) => void;
  /** Default: the pins committed beside this file. */
  pins?: BindingPinsFile;
}

/** Where the binding came from on this call. */
export type BindingSource = 'tool-cache' | 'cache' | 'registry';

export interface EnsuredBinding {
  pin: BindingPin;
  /** The unpacked package folder in the tool cache. */
  packageDir: string;
  /** `<packageDir>/duckdb.node`. */
  bindingPath: string;
  source: BindingSource;
}

/** Written last into an unpacked folder: which pin it holds (a folder from another pin is not reused). */
const MARKER = '.weir-binding.json';
const TARBALL = 'package.tgz';

/** Cache key: the integrity is in it, so a re-pinned binding never restores an old entry. */
export function bindingCacheKey(pin: BindingPin): string {
  return `weir-duckdb-${pin.platformId}-${pin.version}-${pin.integrity.slice('sha512-'.length, 'sha512-'.length + 16).replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** The tool cache folder a pin unpacks into. */
export function bindingPackageDir(toolCacheDir: string, pin: BindingPin): string {
  return join(toolCacheDir, 'weir-duckdb', pin.version, pin.platformId);
}

/** The binding in the tool cache: from there if already unpacked, else from the cache, else from the registry. */
export async function ensureDuckDbBinding(options: EnsureBindingOptions): Promise<EnsuredBinding> {
  const pin = pickBindingPin(options.platform, options.arch, options.libc, options.pins);
  const packageDir = bindingPackageDir(options.toolCacheDir, pin);
  const ensured = (source: BindingSource): EnsuredBinding => ({ pin, packageDir, bindingPath: join(packageDir, 'duckdb.node'), source });
  if (await isUnpacked(packageDir, pin)) return ensured('tool-cache');

  // A fixed name, not a random one: @actions/cache restores to the path it saved from.
  const tarballDir = join(options.tempDir ?? tmpdir(), `weir-duckdb-${pin.version}-${pin.platformId}`);
  await rm(tarballDir, { recursive: true, force: true });
  await mkdir(tarballDir, { recursive: true });
  try {
    const restored = await tryRestoreVerified(pin, tarballDir, options);
    if (!restored) await downloadVerified(tarballUrl(pin, options.registry ?? DEFAULT_REGISTRY), join(tarballDir, TARBALL), pin.integrity, options);
    await unpackAtomically(join(tarballDir, TARBALL), packageDir, pin);
    if (!restored) await trySave(pin, tarballDir, options);
    return ensured(restored ? 'cache' : 'registry');
  } finally {
    await rm(tarballDir, { recursive: true, force: true });
  }
}

async function isUnpacked(packageDir: string, pin: BindingPin): Promise<boolean> {
  try {
    const marker = JSON.parse(await readFile(join(packageDir, MARKER), 'utf8')) as { integrity?: string };
    return marker.integrity === pin.integrity;
  } catch {
    return false;
  }
}

/** True when the cache gave back a tarball that matches the pin; any failure warns and returns false. */
async function tryRestoreVerified(pin: BindingPin, tarballDir: string, options: EnsureBindingOptions): Promise<boolean> {
  if (!options.cache) return false;
  const key = bindingCacheKey(pin);
  try {
    if (!(await options.cache.restore(key, tarballDir))) return false;
    await assertFileIntegrity(join(tarballDir, TARBALL), pin.integrity, `cache entry ${key}`);
    return true;
  } catch (error) {
    options.onWarning?.(`DuckDB binding: cache entry ${key} not used (${(error as Error).message}); downloading instead`);
    await rm(tarballDir, { recursive: true, force: true });
    await mkdir(tarballDir, { recursive: true });
    return false;
  }
}

async function trySave(pin: BindingPin, tarballDir: string, options: EnsureBindingOptions): Promise<void> {
  if (!options.cache) return;
  try {
    await options.cache.save(bindingCacheKey(pin), tarballDir);
  } catch (error) {
    options.onWarning?.(`DuckDB binding: could not save it to the cache (${(error as Error).message}); the next fresh runner downloads it again`);
  }
}

/**
 * Unpacks into a temp folder beside the target and renames it into place, so a crash or a
 * concurrent run never leaves a half-written binding where the next run would load it.
 */
async function unpackAtomically(tarball: string, packageDir: string, pin: BindingPin): Promise<void> {
  const parent = join(packageDir, '..');
  let staging: string | undefined;
  try {
    await mkdir(parent, { recursive: true });
    staging = await mkdtemp(join(parent, `.${pin.platformId}-unpack-`));
    // npm tarballs hold everything under `package/`.
    await extract({ file: tarball, cwd: staging, strip: 1, strict: true });
    await writeFile(join(staging, MARKER), `${JSON.stringify({ packageName: pin.packageName, version: pin.version, integrity: pin.integrity })}\n`);
    await rm(packageDir, { recursive: true, force: true }); // a folder from another pin, or a broken one
    await rename(staging, packageDir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process renamed the same pin into place first: theirs is as good as ours.
      if ((error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') || !(await isUnpacked(packageDir, pin))) throw error;
    });
  } catch (error) {
    throw new BindingUnpackError(packageDir, { cause: error });
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true });
  }
}
