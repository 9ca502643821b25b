/**
 * The DuckDB native binding packages weir can fetch at run time, pinned at build time from
 * package-lock.json by scripts/pin-duckdb-binding.ts into duckdb-binding-pins.json: one entry per
 * platform, with the exact version and the sha512 integrity the lockfile holds. A download is only
 * ever unpacked when its bytes match that hash, whichever registry served it.
 */
import pinsFile from './duckdb-binding-pins.json' with { type: 'json' };
import { UnsupportedPlatformError } from './duckdb-binding-errors.ts';

/** C library of a Linux build: DuckDB publishes separate musl packages (Alpine). */
export type Libc = 'glibc' | 'musl';

/** One pinned platform package, e.g. `@duckdb/node-bindings-linux-x64@1.5.5-r.5`. */
export interface BindingPin {
  /** `linux-x64`, `linux-x64-musl`, `darwin-arm64`, `win32-x64`, … */
  platformId: string;
  /** npm package name, `@duckdb/node-bindings-<platformId>`. */
  packageName: string;
  version: string;
  /** Path of the tarball below the registry root (npm layout), so a mirror serves the same path. */
  tarballPath: string;
  /** `sha512-<base64>` as npm writes it in the lockfile. */
  integrity: string;
}

export interface BindingPinsFile {
  /** Version of `@duckdb/node-bindings` the pins were taken for (= the lockfile's). */
  version: string;
  pins: BindingPin[];
}

/** Registry used when no mirror is configured. */
export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';

export const PINNED_BINDINGS: BindingPinsFile = pinsFile;

/** The platform id DuckDB's loader (`@duckdb/node-bindings/duckdb.js`) requires on this system. */
export function platformIdOf(platform: string, arch: string, libc: Libc = 'glibc'): string {
  return platform === 'linux' && libc === 'musl' ? `${platform}-${arch}-musl` : `${platform}-${arch}`;
}

/** The pin for a platform, or an error naming it and the platforms that are pinned. */
export function pickBindingPin(platform: string, arch: string, libc: Libc = 'glibc', pins: BindingPinsFile = PINNED_BINDINGS): BindingPin {
  const platformId = platformIdOf(platform, arch, libc);
  const pin = pins.pins.find((p) => p.platformId === platformId);
  if (!pin) throw new UnsupportedPlatformError(platformId, pins.pins.map((p) => p.platformId));
  return pin;
}

/** Where to download a pin from: the registry root (a mirror may sit below a path) + the npm tarball path. */
export function tarballUrl(pin: BindingPin, registry: string = DEFAULT_REGISTRY): string {
  return `${registry.replace(/\/+$/, '')}/${pin.tarballPath}`;
}
