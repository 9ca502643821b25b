/**
 * The local ledger, a folder (`.weir/ledger` by default):
 *
 *   <pipeline>/runs/<YYYY-MM>.jsonl   finished runs, one JSON record per line, in finish order
 *   <pipeline>/active/<run id>.json   runs in progress (a killed run stays here, readable)
 *   <pipeline>/state.json             watermarks and processed files
 *
 * Month shards keep the folder narrow as runs accumulate (10k runs → a few hundred files, not 10k).
 * Every write is temp file + rename, so no reader ever sees half a file.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { applyCommit, emptyPipelineState, type PipelineState, type StateCommit } from '../model/state.ts';
import { writeFileAtomic } from './atomic-write.ts';
import type { LedgerStore, RunQuery } from './ledger-store.ts';
import type { RunRecord } from './run-record.ts';

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function listIfExists(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

function parseLines(text: string, file: string): RunRecord[] {
  const records: RunRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as RunRecord);
    } catch {
      // A torn line cannot come from our own writes (rename is atomic); skip it rather than hide all history.
      process.emitWarning(`skipping an unreadable line in ${file}`);
    }
  }
  return records;
}

export class FsLedgerStore implements LedgerStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  #pipelineDir(pipeline: string): string {
    return join(this.dir, pipeline);
  }

  async readState(pipeline: string): Promise<PipelineState> {
    const text = await readIfExists(join(this.#pipelineDir(pipeline), 'state.json'));
    return text ? { ...emptyPipelineState(), ...(JSON.parse(text) as PipelineState) } : emptyPipelineState();
  }

  async saveActive(record: RunRecord): Promise<void> {
    await writeFileAtomic(join(this.#pipelineDir(record.pipeline), 'active', `${record.runId}.json`), JSON.stringify(record));
  }

  async finishRun(record: RunRecord, commit?: StateCommit): Promise<void> {
    const dir = this.#pipelineDir(record.pipeline);
    const shard = join(dir, 'runs', `${(record.finishedAt ?? record.startedAt).slice(0, 7)}.jsonl`);
    const existing = (await readIfExists(shard)) ?? '';
    if (!parseLines(existing, shard).some((r) => r.runId === record.runId)) {
      await writeFileAtomic(shard, `${existing}${JSON.stringify(record)}\n`, { durable: true });
      if (commit && record.status === 'succeeded') {
        const state = applyCommit(await this.readState(record.pipeline), commit, record.runId, record.finishedAt ?? record.startedAt);
        await writeFileAtomic(join(dir, 'state.json'), `${JSON.stringify(state, null, 1)}\n`, { durable: true });
      }
    }
    await rm(join(dir, 'active', `${record.runId}.json`), { force: true });
  }

  async pipelines(): Promise<string[]> {
    return (await listIfExists(this.dir)).filter((name) => !name.startsWith('.')).sort();
  }

  async #runsOf(pipeline: string): Promise<RunRecord[]> {
    const dir = this.#pipelineDir(pipeline);
    const records: RunRecord[] = [];
    for (const name of (await listIfExists(join(dir, 'runs'))).filter((n) => n.endsWith('.jsonl'))) {
      const file = join(dir, 'runs', name);
      records.push(...parseLines((await readIfExists(file)) ?? '', file));
    }
    for (const name of (await listIfExists(join(dir, 'active'))).filter((n) => n.endsWith('.json'))) {
      const text = await readIfExists(join(dir, 'active', name));
      if (text) records.push(JSON.parse(text) as RunRecord);
    }
    return records;
  }

  async listRuns(query: RunQuery = {}): Promise<RunRecord[]> {
    const pipelines = query.pipeline ? [query.pipeline] : await this.pipelines();
    const records = (await Promise.all(pipelines.map((p) => this.#runsOf(p)))).flat();
    records.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.runId.localeCompare(a.runId));
    return query.limit === undefined ? records : records.slice(0, query.limit);
  }

  async getRun(runId: string): Promise<RunRecord | undefined> {
    return (await this.listRuns()).find((r) => r.runId === runId || r.runId.startsWith(runId));
  }
}
