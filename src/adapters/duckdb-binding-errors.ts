/**
 * Typed errors for obtaining DuckDB's native binding at run time (duckdb-binding.ts): one class per
 * way it can fail, each saying what happened, where, and what to do.
 */

export class DuckDbBindingError extends Error {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** No binding is pinned for this platform: nothing was downloaded. */
export class UnsupportedPlatformError extends DuckDbBindingError {
  readonly platformId: string;
  constructor(platformId: string, supported: readonly string[]) {
    super(
      `DuckDB has no pinned native binding for platform '${platformId}' (supported: ${supported.join(', ')}); ` +
        'run weir on one of those runners (runs-on), or install weir-pipelines with npm there so DuckDB comes from node_modules',
    );
    this.platformId = platformId;
  }
}

/** The registry answered, but not with the tarball (404, 403, 5xx after retries…). */
export class BindingDownloadError extends DuckDbBindingError {
  readonly url: string;
  constructor(url: string, reason: string, options: ErrorOptions = {}) {
    super(`could not download DuckDB's native binding from ${url}: ${reason}; check the duckdb-registry setting (a mirror must serve npm tarballs at the same paths) and the runner's network`, options);
    this.url = url;
  }
}

/** The download did not finish in time (a server that accepts and then hangs). */
export class BindingDownloadTimeoutError extends BindingDownloadError {
  constructor(url: string, timeoutMs: number, options: ErrorOptions = {}) {
    super(url, `no complete answer within ${timeoutMs} ms`, options);
  }
}

/** The bytes do not match the pinned sha512: refused before anything was unpacked or loaded. */
export class BindingIntegrityError extends DuckDbBindingError {
  readonly source: string;
  constructor(source: string, expected: string, actual: string) {
    super(
      `DuckDB's native binding from ${source} does not match the pinned integrity (expected ${expected}, got ${actual}); ` +
        'nothing was unpacked or loaded. The registry or mirror serves different bytes for the pinned version: fix the mirror, or re-pin with scripts/pin-duckdb-binding.ts if the lockfile changed',
    );
    this.source = source;
  }
}

/** The verified tarball could not be unpacked into the tool cache (disk full, permissions, bad archive). */
export class BindingUnpackError extends DuckDbBindingError {
  constructor(target: string, options: ErrorOptions = {}) {
    super(`could not unpack DuckDB's native binding into ${target}: ${(options.cause as Error | undefined)?.message ?? 'unknown error'}; check free space and permissions of the tool cache (RUNNER_TOOL_CACHE)`, options);
  }
}

/** This Node has no `module.registerHooks`, which points DuckDB at the unpacked binding. */
export class BindingHookUnavailableError extends DuckDbBindingError {
  constructor(nodeVersion: string) {
    super(`Node ${nodeVersion} cannot load DuckDB's binding from the tool cache (module.registerHooks needs Node ≥ 22.15); run the Action on node24`);
  }
}
