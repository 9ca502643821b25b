/**
 * DuckDB binding start-up for the Action, whole processes: the bundle of
 * test/binding/open-duckdb-entry.ts (no node_modules beside it, as dist/) obtains the binding and
 * runs `select 42`:
 * - cold: empty tool cache and cache, so download (loopback) + sha512 + unpack + load;
 * - cache: empty tool cache, tarball restored from a cache folder (@actions/cache's place), verified, unpacked;
 * - warm: the binding already in the tool cache;
 * against a plain script that opens DuckDB from node_modules. The registry is on loopback, so the
 * network is left out: on a runner add the download of the tarball (size in the table).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create } from 'tar';
import { sha512Integrity } from '../src/adapters/duckdb-binding-download.ts';
import { bundleOpenDuckDb } from '../test/binding/bundle.ts';
import { DIRECT_SQL, markdownTable, median, ms, NODE, REPO, round, type Suite } from './lib.ts';

const INSTALLED = join(REPO, 'node_modules', '@duckdb', `node-bindings-${process.platform}-${process.arch}`);

/** Wall time of one process in ms; async, because the loopback registry lives in this process. */
function timeAsync(args: string[], env: Record<string, string>, cwd: string): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const child = spawn(NODE, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - started) / 1e6) : reject(new Error(`${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

async function benchBinding(runs = 7) {
  const work = mkdtempSync(join(tmpdir(), 'weir-bench-binding-'));
  const server = createServer();
  try {
    const tarball = join(work, 'binding.tgz');
    await create({ gzip: true, file: tarball, cwd: INSTALLED, prefix: 'package', portable: true }, readdirSync(INSTALLED));
    const bytes = (await import('node:fs')).readFileSync(tarball);
    server.on('request', (_request, response) => response.writeHead(200, { 'content-length': String(bytes.length) }).end(bytes));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const bundle = await bundleOpenDuckDb(work);
    writeFileSync(join(work, 'one.sql'), 'select 42 as n');
    const pin = { platformId: `${process.platform}-${process.arch}`, packageName: `@duckdb/node-bindings-${process.platform}-${process.arch}`, version: 'bench', tarballPath: 'binding.tgz', integrity: sha512Integrity(bytes) };
    const base = { WEIR_BINDING_REGISTRY: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, WEIR_BINDING_PINS: JSON.stringify({ version: 'bench', pins: [pin] }) };
    let n = 0;
    const fresh = (name: string) => join(work, `${name}-${n++}`);
    const warmCache = fresh('tool-cache');
    const filledCache = fresh('cache');
    const open = (env: Record<string, string>) => timeAsync([bundle], { ...base, WEIR_BINDING_TEMP: fresh('temp'), ...env }, work);
    await open({ WEIR_BINDING_TOOL_CACHE: warmCache, WEIR_BINDING_CACHE_DIR: filledCache }); // fills both
    const samples: Record<'direct' | 'cold' | 'cache' | 'warm', number[]> = { direct: [], cold: [], cache: [], warm: [] };
    for (let round = 0; round < runs + 1; round++) {
      const taken = {
        direct: await timeAsync([DIRECT_SQL, ':memory:', 'one.sql'], {}, work),
        cold: await open({ WEIR_BINDING_TOOL_CACHE: fresh('tool-cache') }),
        cache: await open({ WEIR_BINDING_TOOL_CACHE: fresh('tool-cache'), WEIR_BINDING_CACHE_DIR: filledCache }),
        warm: await open({ WEIR_BINDING_TOOL_CACHE: warmCache }),
      };
      if (round > 0) for (const key of Object.keys(samples) as (keyof typeof samples)[]) samples[key].push(taken[key]);
      for (const entry of readdirSync(work)) if (/^(tool-cache|temp)-/.test(entry) && entry !== warmCache.split('/').pop()) rmSync(join(work, entry), { recursive: true, force: true });
    }
    const [directMs, coldMs, cacheMs, warmMs] = [samples.direct, samples.cold, samples.cache, samples.warm].map((s) => round(median(s)));
    return { tarballMiB: round(statSync(tarball).size / 2 ** 20), directMs, coldMs, cacheMs, warmMs, warmRatioVsDirect: round(warmMs / directMs, 2) };
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(work, { recursive: true, force: true });
  }
}

type BindingResult = Awaited<ReturnType<typeof benchBinding>>;

function bindingTable(r: BindingResult): string {
  const ratio = (value: number) => `${round(value / r.directMs, 2)}`;
  return markdownTable(
    ['DuckDB opened, `select 42`, whole process', 'Median', 'Ratio to DuckDB from node_modules'],
    [
      ['Plain script, binding from node_modules (baseline)', ms(r.directMs), '1'],
      [`Cold: download on loopback (${r.tarballMiB} MiB tarball), sha512, unpack into the tool cache, load`, `**${ms(r.coldMs)}**`, ratio(r.coldMs)],
      ['Fresh runner, tarball restored from the cache, sha512, unpack, load', `**${ms(r.cacheMs)}**`, ratio(r.cacheMs)],
      ['Warm: binding already in the tool cache, load', `**${ms(r.warmMs)}**`, `${r.warmRatioVsDirect}`],
    ],
  );
}

export const binding: Suite<BindingResult> = { run: () => benchBinding(), table: bindingTable };
