/**
 * The emulator proves itself with the real clients: `@actions/artifact` and `@actions/cache` upload,
 * list and download real bytes through it, as they would against GitHub.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import * as cache from '@actions/cache';
import { describe, expect, it, onTestFinished } from 'vitest';
import { mintRuntimeToken, startActionsResultsEmulator } from './actions-results-emulator.ts';
import { sha256File, useActionsRuntime, useEnv, useTempDir } from './actions-env.ts';

async function startEmulator(dir: string) {
  const emulator = await startActionsResultsEmulator();
  onTestFinished(() => emulator.close());
  useActionsRuntime(emulator.env, dir);
  return emulator;
}

/** A few files, one of them larger than a single read, with bytes that do not compress away. */
function writeSampleFiles(dir: string): string[] {
  mkdirSync(join(dir, 'in', 'nested'), { recursive: true });
  const files = [join(dir, 'in', 'report.md'), join(dir, 'in', 'nested', 'data.bin'), join(dir, 'in', 'empty.txt')];
  writeFileSync(files[0]!, '# report\n\nall green\n');
  writeFileSync(files[1]!, Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251)));
  writeFileSync(files[2]!, '');
  return files;
}

describe('artifacts through the emulator with @actions/artifact', () => {
  it('uploads, lists and downloads an artifact byte for byte', async () => {
    const dir = useTempDir('weir-emulator-');
    const emulator = await startEmulator(dir);
    const files = writeSampleFiles(dir);
    const client = new DefaultArtifactClient();

    const uploaded = await client.uploadArtifact('weir-demo-1', files, join(dir, 'in'));
    const { artifacts } = await client.listArtifacts();
    const out = join(dir, 'out');
    await client.downloadArtifact(uploaded.id!, { path: out });

    expect(artifacts.map((a) => [a.name, a.id, a.size])).toEqual([['weir-demo-1', uploaded.id, uploaded.size]]);
    expect(emulator.artifacts()[0]!.digest).toBe(`sha256:${uploaded.digest}`);
    for (const file of files) expect(sha256File(join(out, file.slice(join(dir, 'in').length + 1)))).toBe(sha256File(file));
  });

  it('reassembles an artifact the client staged as several 8 MiB blocks', async () => {
    const dir = useTempDir('weir-emulator-');
    const emulator = await startEmulator(dir);
    const big = join(dir, 'big.bin');
    writeFileSync(big, randomBytes(17 * 1024 * 1024));

    const uploaded = await new DefaultArtifactClient().uploadArtifact('weir-big', [big], dir, { compressionLevel: 0 });
    const out = join(dir, 'out');
    await new DefaultArtifactClient().downloadArtifact(uploaded.id!, { path: out });

    expect(emulator.calls.filter((c) => c.method === 'blob' && c.status === 201).length).toBeGreaterThanOrEqual(4); // 3 blocks + the list
    expect(sha256File(join(out, 'big.bin'))).toBe(sha256File(big));
  });

  it('refuses a second artifact with the same name in the run (409)', async () => {
    const dir = useTempDir('weir-emulator-');
    await startEmulator(dir);
    const files = writeSampleFiles(dir);
    const client = new DefaultArtifactClient();
    await client.uploadArtifact('weir-demo-2', files, join(dir, 'in'));

    await expect(client.uploadArtifact('weir-demo-2', files, join(dir, 'in'))).rejects.toThrow(/409.*already exists/);
  });

  it('answers a 500 that the client retries, then succeeds', async () => {
    const dir = useTempDir('weir-emulator-');
    const emulator = await startEmulator(dir);
    emulator.failNext('CreateArtifact', 500);

    const uploaded = await new DefaultArtifactClient().uploadArtifact('weir-demo-3', writeSampleFiles(dir), join(dir, 'in'));

    expect(uploaded.id).toBeGreaterThan(0);
    expect(emulator.calls.filter((c) => c.method === 'CreateArtifact').map((c) => c.status)).toEqual([500, 200]);
  });

  it('refuses a token whose scp claim names another run (401, not retried)', async () => {
    const dir = useTempDir('weir-emulator-');
    const emulator = await startEmulator(dir);
    useEnv({ ACTIONS_RUNTIME_TOKEN: mintRuntimeToken('Actions.Results:other-run:other-job') });

    await expect(new DefaultArtifactClient().uploadArtifact('weir-demo-4', writeSampleFiles(dir), join(dir, 'in'))).rejects.toThrow(/401/);
    expect(emulator.calls).toEqual([{ method: 'CreateArtifact', status: 401 }]);
  });

  it('deletes an artifact, which is then no longer listed', async () => {
    const dir = useTempDir('weir-emulator-');
    await startEmulator(dir);
    const client = new DefaultArtifactClient();
    await client.uploadArtifact('weir-demo-5', writeSampleFiles(dir), join(dir, 'in'));

    await client.deleteArtifact('weir-demo-5');

    expect((await client.listArtifacts()).artifacts).toEqual([]);
  });
});

describe('the blob endpoints', () => {
  it('commits staged blocks in block-list order, not in the order they arrived', async () => {
    const emulator = await startActionsResultsEmulator();
    onTestFinished(() => emulator.close());
    const ids = { workflow_run_backend_id: 'a1b2c3d4-0000-4000-8000-000000000001', workflow_job_run_backend_id: 'a1b2c3d4-0000-4000-8000-000000000002' };
    const twirp = (method: string, body: object) => fetch(`${emulator.url}twirp/github.actions.results.api.v1.ArtifactService/${method}`, {
      method: 'POST', headers: { authorization: `Bearer ${emulator.runtimeToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ ...ids, ...body }),
    }).then((r) => r.json() as Promise<Record<string, string>>);
    const { signed_upload_url: url } = await twirp('CreateArtifact', { name: 'blocks', version: 7 });
    const block = (id: string) => Buffer.from(id).toString('base64');

    await fetch(`${url}&comp=block&blockid=${encodeURIComponent(block('b'))}`, { method: 'PUT', body: 'second' });
    await fetch(`${url}&comp=block&blockid=${encodeURIComponent(block('a'))}`, { method: 'PUT', body: 'first-' });
    const commit = await fetch(`${url}&comp=blocklist`, { method: 'PUT', body: `<?xml version="1.0"?><BlockList><Latest>${block('a')}</Latest><Latest>${block('b')}</Latest></BlockList>` });
    const finalized = await twirp('FinalizeArtifact', { name: 'blocks', size: '12' });

    expect(commit.status).toBe(201);
    expect(finalized).toEqual({ ok: true, artifact_id: expect.any(String) });
    expect(emulator.artifactBytes('blocks')?.toString()).toBe('first-second');
    expect(await (await fetch(url!)).text()).toBe('first-second');
    expect((await fetch(url!.replace(/sig=[^&]+/, 'sig=forged'))).status).toBe(403);
  });
});

describe('caches through the emulator with @actions/cache (v2)', () => {
  it('saves a cache entry and restores it by its key and by a restore-key prefix', async () => {
    const dir = useTempDir('weir-emulator-');
    await startEmulator(dir);
    const files = writeSampleFiles(dir);
    const before = files.map(sha256File);
    const paths = [join(dir, 'in')];

    const id = await cache.saveCache(paths, 'duckdb-linux-x64-1.5.5');
    rmSync(join(dir, 'in'), { recursive: true });
    const exact = await cache.restoreCache(paths, 'duckdb-linux-x64-1.5.5');
    const restoredExact = files.map(sha256File);
    rmSync(join(dir, 'in'), { recursive: true });
    const byPrefix = await cache.restoreCache(paths, 'duckdb-linux-x64-2.0.0', ['duckdb-linux-x64-']);

    expect(id).toBeGreaterThan(0);
    expect([exact, byPrefix]).toEqual(['duckdb-linux-x64-1.5.5', 'duckdb-linux-x64-1.5.5']);
    expect(restoredExact).toEqual(before);
    expect(files.map(sha256File)).toEqual(before);
  });

  it('misses a key nobody saved, and refuses to save a key twice', async () => {
    const dir = useTempDir('weir-emulator-');
    const emulator = await startEmulator(dir);
    const paths = [join(dir, 'in')];
    writeSampleFiles(dir);

    const missed = await cache.restoreCache(paths, 'nothing-here');
    await cache.saveCache(paths, 'once');
    const second = await cache.saveCache(paths, 'once');

    expect(missed).toBeUndefined();
    expect(second).toBe(-1);
    expect(emulator.calls.filter((c) => c.method === 'CreateCacheEntry').map((c) => c.status)).toEqual([200, 409]);
  });
});
