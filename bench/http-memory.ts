/**
 * Peak memory of an `http` stage loading a large answer, against loading the same bytes from a
 * file with DuckDB directly. Each measurement runs in its own process: it first runs a tiny stage
 * (so modules, fetch and DuckDB's JSON reader are warm), takes its peak RSS as the idle baseline,
 * then loads the large answer; the figure is (peak − baseline) / payload size. Goal (issue 8):
 * ≤ 3× for a 50 MB answer.
 *
 *   node bench/http-memory.ts [MB=50] [json|csv]
 *
 * The server runs in this (parent) process, so its buffers are not counted.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE, REPO } from './lib.ts';

const IS_CHILD = process.argv[2] === 'child';
// Parent: [MB] [format]; child: child <mode> <target> <dir> <MB> <format>.
const MB = Number((IS_CHILD ? process.argv[6] : process.argv[2]) ?? 50);
const FORMAT = (IS_CHILD ? process.argv[7] : process.argv[3]) === 'csv' ? 'csv' : 'json';

/** Writes about `bytes` of records (JSON array or CSV) to `out`, with backpressure; resolves with the bytes written. */
async function writeRecords(out: NodeJS.WritableStream, bytes: number, format: string): Promise<number> {
  let written = 0;
  const write = async (text: string) => {
    written += Buffer.byteLength(text);
    if (!out.write(text)) await new Promise((resolve) => out.once('drain', resolve));
  };
  await write(format === 'csv' ? 'id,name,amount,note\n' : '[');
  for (let id = 0; written < bytes; ) {
    const rows: string[] = [];
    for (let i = 0; i < 1000; i++, id++) {
      rows.push(format === 'csv' ? `${id},name-${id},${id * 0.5},some text for row ${id}\n` : `${id === 0 ? '' : ','}{"id":${id},"name":"name-${id}","amount":${id * 0.5},"note":"some text for row ${id}"}`);
    }
    await write(rows.join(''));
  }
  if (format !== 'csv') await write(']');
  return written;
}

// The child: `child <mode> <url or file> <dir>`; prints {baselineKb, peakKb} as JSON.
async function child(mode: string, target: string, dir: string): Promise<void> {
  const kb = () => process.resourceUsage().maxRSS;
  if (mode === 'weir') {
    const { loadPipelineSource } = await import('../src/definitions/load-pipeline.ts');
    const { defaultStageKinds } = await import('../src/stages/registry.ts');
    const { runPipeline } = await import('../src/use-cases/run-pipeline.ts');
    const { createLocalRunDeps } = await import('../src/entrypoints/local-run-deps.ts');
    const runStage = async (url: string) => {
      const yaml = `name: mem\nstages:\n  api:\n    uses: http\n    policy: { retries: 0 }\n    with: { url: "${url}", format: ${FORMAT} }\n`;
      const { pipeline } = loadPipelineSource(yaml, 'pipelines/mem.yml', { kinds: defaultStageKinds(), fileExists: () => true });
      const { record } = await runPipeline({ pipeline: pipeline!, root: dir, kinds: defaultStageKinds() }, createLocalRunDeps({ root: dir }));
      if (record.status !== 'succeeded') throw new Error(JSON.stringify(record.stages.api.error));
      return record.stages.api.rows;
    };
    await runStage(`${target}?mb=0.01`);
    const baselineKb = kb();
    const rows = await runStage(`${target}?mb=${MB}`);
    console.log(JSON.stringify({ baselineKb, peakKb: kb(), rows }));
    return;
  }
  const { openDuckDb } = await import('../src/adapters/duckdb.ts');
  const db = await openDuckDb(join(dir, 'direct.duckdb'));
  const reader = (file: string) => (FORMAT === 'csv' ? `read_csv_auto('${file}', sample_size = -1)` : `read_json_auto('${file}', sample_size = -1)`);
  await db.exec(`CREATE OR REPLACE TABLE small AS SELECT * FROM ${reader(`${target}.small`)}`);
  const baselineKb = kb();
  await db.exec(`CREATE OR REPLACE TABLE big AS SELECT * FROM ${reader(target)}`);
  const rows = Number(await db.scalar('SELECT count(*) FROM big'));
  await db.close();
  console.log(JSON.stringify({ baselineKb, peakKb: kb(), rows }));
}

/** Runs one child; async, because the server answering it lives in this process's event loop. */
async function measure(mode: string, target: string, dir: string): Promise<{ baselineKb: number; peakKb: number; rows: number }> {
  const proc = spawn(NODE, [join(REPO, 'bench', 'http-memory.ts'), 'child', mode, target, dir, String(MB), FORMAT], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
  if (code !== 0) throw new Error(`${mode} failed:\n${stderr}`);
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'weir-bench-memory-'));
  const server = createServer((req, res: ServerResponse) => {
    const mb = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('mb') ?? 1);
    res.writeHead(200, { 'content-type': FORMAT === 'csv' ? 'text/csv' : 'application/json' });
    void writeRecords(res, mb * 1024 * 1024, FORMAT).then(() => res.end());
  });
  try {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/big`;
    const file = join(dir, `big.${FORMAT}`);
    const payload = await writeFile(file, MB * 1024 * 1024);
    await writeFile(`${file}.small`, 10_000);
    const weir = await measure('weir', url, dir);
    const direct = await measure('direct', file, dir);
    const ratio = (m: { baselineKb: number; peakKb: number }) => Number((((m.peakKb - m.baselineKb) * 1024) / payload).toFixed(2));
    console.log(JSON.stringify({
      payloadMb: Number((payload / 1024 / 1024).toFixed(1)),
      format: FORMAT,
      weir: { ...weir, ratio: ratio(weir) },
      duckdbDirect: { ...direct, ratio: ratio(direct) },
      goal: '≤ 3× the payload above the idle process',
    }, null, 2));
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function writeFile(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const written = await writeRecords(out, bytes, FORMAT);
  await new Promise((resolve) => out.end(resolve));
  return written;
}

if (IS_CHILD) {
  await child(process.argv[3], process.argv[4], process.argv[5]);
} else {
  await main();
}
