/**
 * Cost of one segment boundary of a run split across jobs, for a 1,000,000-row table: the producing
 * job writes the table as Parquet and uploads its part as an artifact; the consuming job downloads
 * it and reads the table into its database. Baseline: writing the Parquet file and reading it back
 * on one machine. Through the local emulator of the Actions results service (loopback HTTP, the
 * real @actions/artifact client, zip and blob upload/download), so the ratio is weir's own cost of
 * the hand-off, not the network's. Also the same through a hand-off folder (`--handoff <dir>`).
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDb } from '../src/adapters/duckdb.ts';
import { createActionsHandoffStore } from '../src/adapters/actions-handoff.ts';
import { FsHandoffStore } from '../src/adapters/fs-handoff.ts';
import { HANDOFF_FORMAT, type HandoffStore, type PartReport } from '../src/use-cases/handoff.ts';
import { startActionsResultsEmulator } from '../test/support/actions-results-emulator.ts';
import { markdownTable, median, ms, round, tempProject, removeProject, type Suite } from './lib.ts';

const ROWS = 1_000_000;
const SAMPLES = 9;

interface HandoffResult {
  rows: number;
  parquetMiB: number;
  localMs: number;
  folderMs: number;
  artifactsMs: number;
  folderRatio: number;
  artifactsRatio: number;
}

async function seed(path: string): Promise<void> {
  const db = await openDuckDb(path);
  await db.exec(`CREATE TABLE docs AS SELECT i AS doc_id, 'document number ' || i AS body, (i * 7919) % 1000 / 10.0 AS score, DATE '2026-01-01' + (i % 365)::INTEGER AS day FROM range(${ROWS}) t(i)`);
  await db.close();
}

/** Write the table as Parquet (the producing job), then read it into a fresh database (the consuming job); `carry` moves the file between them. */
async function boundary(dir: string, source: string, carry: (file: string, sample: number) => Promise<string>, sample: number): Promise<number> {
  const started = performance.now();
  const producer = await openDuckDb(source);
  const out = join(dir, `out-${sample}`);
  mkdirSync(join(out, 'tables'), { recursive: true });
  const file = join(out, 'tables', 'docs.parquet');
  await producer.exec(`COPY docs TO '${file}' (FORMAT parquet)`);
  await producer.close();
  const received = await carry(out, sample);
  const consumer = await openDuckDb(join(dir, `consumer-${sample}.duckdb`));
  await consumer.exec(`CREATE TABLE docs AS SELECT * FROM read_parquet('${received}')`);
  const rows = Number(await consumer.scalar('SELECT count(*) FROM docs'));
  await consumer.close();
  if (rows !== ROWS) throw new Error(`the hand-off lost rows: ${rows} of ${ROWS}`);
  return performance.now() - started;
}

function viaStore(store: HandoffStore) {
  return async (out: string, sample: number): Promise<string> => {
    const report: PartReport = { format: HANDOFF_FORMAT, runId: 'bench', segment: `s${sample}`, status: 'succeeded', runnerLabels: [], host: 'bench', startedAt: '', finishedAt: '', tables: { docs: ROWS } };
    await store.putPart('bench', { segment: `s${sample}` }, { report, events: [], commits: {}, tables: { docs: join(out, 'tables', 'docs.parquet') } });
    const part = await store.getPart('bench', { segment: `s${sample}` });
    return part!.tables.docs;
  };
}

export const handoff: Suite<HandoffResult> = {
  async run() {
    const dir = tempProject({});
    const saved = { ...process.env };
    try {
      const source = join(dir, 'source.duckdb');
      await seed(source);
      await using emulator = await startActionsResultsEmulator();
      Object.assign(process.env, emulator.env, { RUNNER_TEMP: dir, GITHUB_WORKSPACE: dir });
      delete process.env.GITHUB_SERVER_URL;
      const artifacts = createActionsHandoffStore({ tempDir: join(dir, 'runner-temp') });
      const folder = new FsHandoffStore(join(dir, 'handoff'));
      const local = async (out: string) => join(out, 'tables', 'docs.parquet');
      const times = { local: [] as number[], folder: [] as number[], artifacts: [] as number[] };
      let parquetMiB = 0;
      // Interleaved, so drift on a busy machine touches all three alike; the first round warms up.
      for (let sample = 0; sample <= SAMPLES; sample++) {
        const local1 = await boundary(dir, source, local, sample * 3);
        const folder1 = await boundary(dir, source, viaStore(folder), sample * 3 + 1);
        const artifacts1 = await boundary(dir, source, viaStore(artifacts), sample * 3 + 2);
        if (sample === 0) parquetMiB = statSync(join(dir, 'out-0', 'tables', 'docs.parquet')).size / 2 ** 20;
        for (const name of [`out-${sample * 3}`, `out-${sample * 3 + 1}`, `out-${sample * 3 + 2}`]) rmSync(join(dir, name), { recursive: true, force: true });
        if (sample === 0) continue;
        times.local.push(local1);
        times.folder.push(folder1);
        times.artifacts.push(artifacts1);
      }
      const [localMs, folderMs, artifactsMs] = [median(times.local), median(times.folder), median(times.artifacts)];
      return { rows: ROWS, parquetMiB: round(parquetMiB, 1), localMs, folderMs, artifactsMs, folderRatio: round(folderMs / localMs, 2), artifactsRatio: round(artifactsMs / localMs, 2) };
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      removeProject(dir);
    }
  },
  table(r) {
    return markdownTable(
      ['Segment boundary, 1,000,000 rows', 'Median', 'Ratio'],
      [
        [`Write Parquet, read it into another database (baseline; ${r.parquetMiB} MiB)`, ms(r.localMs), '1.00×'],
        ['Hand-off folder: write, copy the part, read', ms(r.folderMs), `${r.folderRatio.toFixed(2)}×`],
        ['Artifacts (emulator): write, upload, download, read', ms(r.artifactsMs), `${r.artifactsRatio.toFixed(2)}×`],
      ],
    );
  },
};
