/**
 * The whole path as the Action runs it, in separate processes: a bundle with no
 * @duckdb/node-bindings-* anywhere on its resolution path downloads the real linux-x64 binding
 * (packed from node_modules, served on loopback), verifies, unpacks and opens DuckDB through the
 * resolve hook. Only where that binding is installed (linux-x64 glibc).
 */
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bindingPackageDir } from '../../src/adapters/duckdb-binding.ts';
import { bundleOpenDuckDb, runOpenDuckDb } from './bundle.ts';
import { INSTALLED_BINDING, listFiles, makeTempDir, packFolder, serveRegistry, testPins, type LoopbackRegistry } from './helpers.ts';

const canLoad = process.platform === 'linux' && process.arch === 'x64' && existsSync(join(INSTALLED_BINDING, 'duckdb.node'));

describe.runIf(canLoad)('the binding fetched at run time', () => {
  let shared: string;
  let bundle: string;
  let integrity: string;
  let registry: LoopbackRegistry;

  beforeAll(async () => {
    shared = makeTempDir('weir-binding-load-', false);
    const packed = await packFolder(INSTALLED_BINDING, join(shared, 'binding.tgz'));
    integrity = packed.integrity;
    registry = await serveRegistry([{ send: packed.bytes }], false);
    bundle = await bundleOpenDuckDb(join(shared));
  }, 120_000);

  afterAll(async () => {
    await registry?.close();
    if (shared) rmSync(shared, { recursive: true, force: true });
  });

  function settings(dir: string, pinned = integrity): Record<string, string> {
    return {
      WEIR_BINDING_TOOL_CACHE: join(dir, 'tool-cache'),
      WEIR_BINDING_TEMP: join(dir, 'temp'),
      WEIR_BINDING_REGISTRY: registry.url,
      WEIR_BINDING_PINS: JSON.stringify(testPins(pinned)),
    };
  }

  it('opens DuckDB from a bundle without node_modules: downloaded first, from the tool cache next', async () => {
    const dir = makeTempDir();
    expect(existsSync(join(bundle, '..', 'node_modules'))).toBe(false);
    const cold = await runOpenDuckDb(bundle, settings(dir));
    expect(cold.stderr).toBe('');
    expect(JSON.parse(cold.stdout)).toEqual({ source: 'registry', rows: [{ n: 42 }] });
    const warm = await runOpenDuckDb(bundle, settings(dir));
    expect(JSON.parse(warm.stdout)).toEqual({ source: 'tool-cache', rows: [{ n: 42 }] });
    const packageDir = bindingPackageDir(join(dir, 'tool-cache'), testPins(integrity).pins[0]);
    expect(listFiles(packageDir)).toEqual(expect.arrayContaining(['duckdb.node', 'libduckdb.so', 'package.json']));
  }, 120_000);

  it('cannot open DuckDB from that bundle without the hook (nothing else supplies the binding)', async () => {
    const dir = makeTempDir();
    const result = await runOpenDuckDb(bundle, { ...settings(dir), WEIR_BINDING_HOOK: '0' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Cannot find module '@duckdb/node-bindings-linux-x64/duckdb.node'");
  }, 120_000);

  it('refuses a binding whose hash differs from the pin: exit 1, nothing unpacked, DuckDB never loaded', async () => {
    const dir = makeTempDir();
    const wrongPin = `sha512-${Buffer.alloc(64, 7).toString('base64')}`;
    const result = await runOpenDuckDb(bundle, settings(dir, wrongPin));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^BindingIntegrityError: DuckDB's native binding from http:\/\/127\.0\.0\.1:\d+\/registry\/.* does not match the pinned integrity/);
    expect(listFiles(join(dir, 'tool-cache'))).toEqual([]);
    expect(listFiles(join(dir, 'temp'))).toEqual([]);
  }, 120_000);
});
