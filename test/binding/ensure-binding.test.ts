import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bindingCacheKey, bindingPackageDir, ensureDuckDbBinding, type EnsureBindingOptions } from '../../src/adapters/duckdb-binding.ts';
import {
  BindingDownloadError,
  BindingDownloadTimeoutError,
  BindingIntegrityError,
  UnsupportedPlatformError,
} from '../../src/adapters/duckdb-binding-errors.ts';
import { listFiles, makeTempDir, MemoryBindingCache, packFakeBinding, serveRegistry, testPins, type Answer } from './helpers.ts';

const noWait = async () => {};

/** A temp tool cache and temp dir, a fake binding served on loopback by `answers(bytes)`, and options to call ensure with. */
async function setUp(answers: (bytes: Buffer) => Answer[], extra: Partial<EnsureBindingOptions> = {}) {
  const dir = makeTempDir();
  const { bytes, integrity } = await packFakeBinding(dir);
  const registry = await serveRegistry(answers(bytes));
  const warnings: string[] = [];
  const options: EnsureBindingOptions = {
    platform: 'linux',
    arch: 'x64',
    toolCacheDir: join(dir, 'tool-cache'),
    tempDir: join(dir, 'temp'),
    registry: registry.url,
    fetch: globalThis.fetch,
    sleep: noWait,
    pins: testPins(integrity),
    onWarning: (message) => warnings.push(message),
    ...extra,
  };
  const pin = options.pins!.pins[0];
  return { dir, bytes, integrity, registry, warnings, options, pin, packageDir: bindingPackageDir(options.toolCacheDir, pin) };
}

describe('ensureDuckDbBinding', () => {
  it('downloads the pinned tarball from the registry, unpacks it into the tool cache and saves it to the cache', async () => {
    const cache = new MemoryBindingCache();
    const { options, registry, packageDir, pin } = await setUp((bytes) => [{ send: bytes }], { cache });
    const binding = await ensureDuckDbBinding(options);
    expect(binding).toMatchObject({ source: 'registry', packageDir, bindingPath: join(packageDir, 'duckdb.node') });
    expect(packageDir).toBe(join(options.toolCacheDir, 'weir-duckdb', '1.5.5-r.5', 'linux-x64'));
    expect(readFileSync(binding.bindingPath, 'utf8')).toBe('not a real binding: fake');
    expect(registry.requests).toEqual([`/registry/${pin.tarballPath}`]);
    expect(cache.calls).toEqual([`restore ${bindingCacheKey(pin)}`, `save ${bindingCacheKey(pin)}`]);
    expect([...cache.entries.get(bindingCacheKey(pin))!.keys()]).toEqual(['package.tgz']);
    expect(listFiles(options.tempDir!)).toEqual([]);
  });

  it('finds an unpacked binding in the tool cache without asking the cache or the registry', async () => {
    const cache = new MemoryBindingCache();
    const { options, registry } = await setUp((bytes) => [{ send: bytes }], { cache });
    await ensureDuckDbBinding(options);
    const second = await ensureDuckDbBinding(options);
    expect(second.source).toBe('tool-cache');
    expect(registry.requests).toHaveLength(1);
    expect(cache.calls).toHaveLength(2);
  });

  it('restores the tarball from the cache on a fresh runner, verifies it, and downloads nothing', async () => {
    const cache = new MemoryBindingCache();
    const { options, registry, dir } = await setUp((bytes) => [{ send: bytes }], { cache });
    await ensureDuckDbBinding(options);
    const freshRunner = { ...options, toolCacheDir: join(dir, 'fresh-tool-cache') };
    const restored = await ensureDuckDbBinding(freshRunner);
    expect(restored.source).toBe('cache');
    expect(readFileSync(restored.bindingPath, 'utf8')).toBe('not a real binding: fake');
    expect(registry.requests).toHaveLength(1);
  });

  it('downloads instead, with a warning, when the cache entry does not match the pin', async () => {
    const cache = new MemoryBindingCache();
    const { options, registry, pin, warnings } = await setUp((bytes) => [{ send: bytes }], { cache });
    cache.entries.set(bindingCacheKey(pin), new Map([['package.tgz', Buffer.from('poisoned')]]));
    const binding = await ensureDuckDbBinding(options);
    expect(binding.source).toBe('registry');
    expect(readFileSync(binding.bindingPath, 'utf8')).toBe('not a real binding: fake');
    expect(registry.requests).toHaveLength(1);
    expect(warnings.join('\n')).toMatch(/cache entry weir-duckdb-linux-x64-.* not used .*does not match the pinned integrity.*downloading instead/);
  });

  it('warns and still returns the binding when the cache cannot save it', async () => {
    const cache = new MemoryBindingCache();
    cache.save = async () => {
      throw new Error('cache service unavailable');
    };
    const { options, warnings } = await setUp((bytes) => [{ send: bytes }], { cache });
    await expect(ensureDuckDbBinding(options)).resolves.toMatchObject({ source: 'registry' });
    expect(warnings).toEqual([expect.stringContaining('could not save it to the cache (cache service unavailable)')]);
  });

  it('refuses a tarball whose sha512 differs from the pin: nothing in the tool cache, nothing cached', async () => {
    const cache = new MemoryBindingCache();
    const dir = makeTempDir();
    const other = await packFakeBinding(dir, 'tampered');
    const { options, packageDir } = await setUp(() => [{ send: other.bytes }], { cache });
    const error = await ensureDuckDbBinding(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BindingIntegrityError);
    expect((error as Error).message).toMatch(/does not match the pinned integrity \(expected sha512-.*, got sha512-.*\); nothing was unpacked or loaded/);
    expect(listFiles(options.toolCacheDir)).toEqual([]);
    expect(listFiles(options.tempDir!)).toEqual([]);
    expect(listFiles(packageDir)).toEqual([]);
    expect(cache.entries.size).toBe(0);
  });

  it('does not retry a hash mismatch', async () => {
    const { options, registry } = await setUp(() => [{ send: Buffer.from('wrong bytes') }]);
    await expect(ensureDuckDbBinding(options)).rejects.toBeInstanceOf(BindingIntegrityError);
    expect(registry.requests).toHaveLength(1);
  });

  it('gives up with a timeout error naming the URL when the server accepts and never answers', async () => {
    const { options, registry } = await setUp(() => ['hang'], { timeoutMs: 200, attempts: 2 });
    const error = await ensureDuckDbBinding(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BindingDownloadTimeoutError);
    expect((error as Error).message).toContain(`${registry.url}@duckdb/node-bindings-linux-x64/-/`);
    expect(registry.requests).toHaveLength(2);
    expect(listFiles(options.toolCacheDir)).toEqual([]);
  });

  it('times out when the body stops halfway, and leaves no partial file', async () => {
    const { options } = await setUp(() => ['hang-mid-body'], { timeoutMs: 200, attempts: 1 });
    await expect(ensureDuckDbBinding(options)).rejects.toBeInstanceOf(BindingDownloadTimeoutError);
    expect(listFiles(options.tempDir!)).toEqual([]);
    expect(listFiles(options.toolCacheDir)).toEqual([]);
  });

  it('retries a connection reset, then reports it as a download error', async () => {
    const { options, registry } = await setUp(() => ['reset'], { attempts: 3 });
    const error = await ensureDuckDbBinding(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BindingDownloadError);
    expect(error).not.toBeInstanceOf(BindingDownloadTimeoutError);
    expect((error as Error).message).toMatch(/could not download DuckDB's native binding from http:\/\/127\.0\.0\.1:\d+\/registry\/.*: (ECONNRESET|other side closed|socket hang up)/i);
    expect(registry.requests).toHaveLength(3);
  });

  it('retries a 503 and succeeds on the next attempt', async () => {
    const sleeps: number[] = [];
    const { options, registry } = await setUp((bytes) => [{ status: 503 }, { send: bytes }], { sleep: async (ms) => void sleeps.push(ms) });
    await expect(ensureDuckDbBinding(options)).resolves.toMatchObject({ source: 'registry' });
    expect(registry.requests).toHaveLength(2);
    expect(sleeps).toHaveLength(1);
  });

  it('does not retry a 404 from a mirror, and says to check the registry setting', async () => {
    const { options, registry } = await setUp(() => [{ status: 404 }]);
    await expect(ensureDuckDbBinding(options)).rejects.toThrow(/HTTP 404.*check the duckdb-registry setting/);
    expect(registry.requests).toHaveLength(1);
  });

  it('refuses a body larger than the limit', async () => {
    const { options } = await setUp((bytes) => [{ send: bytes }], { maxBytes: 10 });
    await expect(ensureDuckDbBinding(options)).rejects.toThrow(/exceeds 10 bytes/);
    expect(listFiles(options.toolCacheDir)).toEqual([]);
  });

  it('names the platform and the supported ones when none is pinned, before any request', async () => {
    const { options, registry } = await setUp((bytes) => [{ send: bytes }]);
    const error = await ensureDuckDbBinding({ ...options, platform: 'freebsd', arch: 'x64' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedPlatformError);
    expect((error as Error).message).toContain("platform 'freebsd-x64' (supported: linux-x64, linux-arm64)");
    expect(registry.requests).toEqual([]);
  });

  it('replaces a folder unpacked from another pin', async () => {
    const { options, packageDir, registry } = await setUp((bytes) => [{ send: bytes }]);
    mkdirSync(packageDir, { recursive: true });
    writeFileSync(join(packageDir, '.weir-binding.json'), '{"integrity":"sha512-older"}');
    writeFileSync(join(packageDir, 'stale.txt'), 'from an older pin');
    await expect(ensureDuckDbBinding(options)).resolves.toMatchObject({ source: 'registry' });
    expect(listFiles(packageDir)).toEqual(['.weir-binding.json', 'duckdb.node', 'package.json']);
    expect(registry.requests).toHaveLength(1);
  });
});
