import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { PINS_PATH, pinsFromLockfile } from '../../scripts/pin-duckdb-binding.ts';
import { createActionsBindingCache } from '../../src/adapters/duckdb-binding-actions-cache.ts';
import { UnsupportedPlatformError } from '../../src/adapters/duckdb-binding-errors.ts';
import { DEFAULT_REGISTRY, pickBindingPin, PINNED_BINDINGS, tarballUrl } from '../../src/adapters/duckdb-binding-pins.ts';
import { bindingSettingsFromEnv } from '../../src/adapters/duckdb-binding-settings.ts';
import { REPO } from './helpers.ts';

const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8'));
const offline = (name: string): never => {
  throw new Error(`${name} is not in the lockfile (the test runs offline)`);
};

describe('pinned DuckDB bindings', () => {
  it('are what scripts/pin-duckdb-binding.ts writes from package-lock.json (run it after upgrading DuckDB)', () => {
    expect(readFileSync(PINS_PATH, 'utf8')).toBe(`${JSON.stringify(pinsFromLockfile(lock, offline), null, 2)}\n`);
  });

  it('pin the version of @duckdb/node-api installed, for Linux x64 and arm64 at least, each with a sha512', () => {
    const installed = JSON.parse(readFileSync(join(REPO, 'node_modules', '@duckdb', 'node-bindings', 'package.json'), 'utf8')).version;
    expect(PINNED_BINDINGS.version).toBe(installed);
    for (const platformId of ['linux-x64', 'linux-arm64', 'darwin-arm64', 'win32-x64']) {
      const pin = PINNED_BINDINGS.pins.find((p) => p.platformId === platformId);
      expect(pin, platformId).toMatchObject({ version: installed, integrity: expect.stringMatching(/^sha512-[A-Za-z0-9+/]{86}==$/) });
    }
  });

  it('asks the registry only for a platform the lockfile lacks', () => {
    const partial = { packages: { ...lock.packages } };
    delete partial.packages['node_modules/@duckdb/node-bindings-win32-arm64'];
    const asked: string[] = [];
    const pins = pinsFromLockfile(partial, (name, version) => {
      asked.push(`${name}@${version}`);
      return { integrity: 'sha512-fromregistry' };
    });
    expect(asked).toEqual([`@duckdb/node-bindings-win32-arm64@${PINNED_BINDINGS.version}`]);
    expect(pins.pins.find((p) => p.platformId === 'win32-arm64')?.integrity).toBe('sha512-fromregistry');
  });

  it('pick the musl package on musl Linux, and name the supported platforms otherwise', () => {
    expect(pickBindingPin('linux', 'arm64', 'musl').packageName).toBe('@duckdb/node-bindings-linux-arm64-musl');
    expect(pickBindingPin('darwin', 'arm64', 'musl').packageName).toBe('@duckdb/node-bindings-darwin-arm64');
    expect(() => pickBindingPin('aix', 'ppc64')).toThrow(UnsupportedPlatformError);
    expect(() => pickBindingPin('aix', 'ppc64')).toThrow(/platform 'aix-ppc64' \(supported: linux-x64, linux-arm64, .*win32-x64/);
  });

  it('download from npm by default and from a mirror at the same tarball path', () => {
    const pin = pickBindingPin('linux', 'x64');
    expect(tarballUrl(pin)).toBe(`https://registry.npmjs.org/@duckdb/node-bindings-linux-x64/-/node-bindings-linux-x64-${pin.version}.tgz`);
    expect(tarballUrl(pin, 'https://npm.corp.example/artifactory/api/npm/npm-remote/')).toBe(
      `https://npm.corp.example/artifactory/api/npm/npm-remote/@duckdb/node-bindings-linux-x64/-/node-bindings-linux-x64-${pin.version}.tgz`,
    );
  });
});

describe('binding settings from the runner environment', () => {
  it('take the tool cache, temp folder and the duckdb-registry input, which wins over WEIR_DUCKDB_REGISTRY', () => {
    const env = { RUNNER_TOOL_CACHE: '/opt/hostedtoolcache', RUNNER_TEMP: '/home/runner/work/_temp', 'INPUT_DUCKDB-REGISTRY': 'https://mirror.example/npm/', WEIR_DUCKDB_REGISTRY: 'https://other.example' };
    expect(bindingSettingsFromEnv(env)).toMatchObject({ toolCacheDir: '/opt/hostedtoolcache', tempDir: '/home/runner/work/_temp', registry: 'https://mirror.example/npm/' });
    expect(bindingSettingsFromEnv({ ...env, 'INPUT_DUCKDB-REGISTRY': '' }).registry).toBe('https://other.example');
    expect(bindingSettingsFromEnv({}).registry).toBe(DEFAULT_REGISTRY);
  });
});

describe('the Actions cache for the binding', () => {
  it('is absent where the runner offers no cache service (local runs)', async () => {
    onTestFinished(() => void vi.unstubAllEnvs());
    vi.stubEnv('ACTIONS_CACHE_SERVICE_V2', '');
    vi.stubEnv('ACTIONS_RESULTS_URL', '');
    vi.stubEnv('ACTIONS_CACHE_URL', '');
    await expect(createActionsBindingCache()).resolves.toBeUndefined();
  });

  it('is offered where the runner gives a results service URL (the v2 cache)', async () => {
    onTestFinished(() => void vi.unstubAllEnvs());
    vi.stubEnv('ACTIONS_CACHE_SERVICE_V2', 'True');
    vi.stubEnv('ACTIONS_RESULTS_URL', 'http://127.0.0.1:9/');
    const cache = await createActionsBindingCache();
    expect(cache).toMatchObject({ restore: expect.any(Function), save: expect.any(Function) });
  });
});
