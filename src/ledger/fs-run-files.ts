/**
 * A pipeline's run records on disk:
 *
 *   runs/<YYYY-MM>/<run id>.json   finished runs, written once (exclusive create), month of start
 *   active/<run id>.json           runs in progress (atomic overwrite)
 *   runs/<YYYY-MM>.jsonl           the first ledger format, read until `migrateV1` splits it
 */
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive, existsFile, listIfExists, readJsonIfExists, readTextIfExists, removeDurable, writeFileDurable } from './durable-file.ts';
import { compareRunIds } from './run-id.ts';
import type { RunRecord } from './run-record.ts';

const MONTH = /^\d{4}-\d{2}$/;

/** The month folder of a run: the month it started in (UTC). */
export function monthOf(record: RunRecord): string {
  return record.startedAt.slice(0, 7);
}

function parseLines(text: string, file: string): RunRecord[] {
  const records: RunRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      records.push(JSON.parse(line) as RunRecord);
    } catch {
      // A first-format shard could be torn by a crash; skip the line rather than hide all history.
      process.emitWarning(`skipping an unreadable line in ${file}`);
    }
  }
  return records;
}

const jsonNames = (names: string[]) => names.filter((n) => n.endsWith('.json') && !n.startsWith('.')).map((n) => n.slice(0, -5));

export class FsRunFiles {
  readonly #dir: string;

  constructor(pipelineDir: string) {
    this.#dir = pipelineDir;
  }

  runPath(month: string, runId: string): string {
    return join(this.#dir, 'runs', month, `${runId}.json`);
  }

  activePath(runId: string): string {
    return join(this.#dir, 'active', `${runId}.json`);
  }

  /** Month folders, newest first. */
  async months(): Promise<string[]> {
    return (await listIfExists(join(this.#dir, 'runs'))).filter((n) => MONTH.test(n)).sort().reverse();
  }

  /** Run ids finished in `month`, newest first (names only: no record is read). */
  async idsIn(month: string): Promise<string[]> {
    return jsonNames(await listIfExists(join(this.#dir, 'runs', month))).sort((a, b) => compareRunIds(b, a));
  }

  readRun(month: string, runId: string): Promise<RunRecord | undefined> {
    return readJsonIfExists<RunRecord>(this.runPath(month, runId));
  }

  isFinished(month: string, runId: string): Promise<boolean> {
    return existsFile(this.runPath(month, runId));
  }

  /** Writes the finished record unless one exists; false when the run was already recorded. */
  writeRun(record: RunRecord): Promise<boolean> {
    return createFileExclusive(this.runPath(monthOf(record), record.runId), JSON.stringify(record));
  }

  async activeIds(): Promise<string[]> {
    return jsonNames(await listIfExists(join(this.#dir, 'active')));
  }

  readActive(runId: string): Promise<RunRecord | undefined> {
    return readJsonIfExists<RunRecord>(this.activePath(runId));
  }

  saveActive(record: RunRecord): Promise<void> {
    return writeFileDurable(this.activePath(record.runId), JSON.stringify(record));
  }

  removeActive(runId: string): Promise<void> {
    return removeDurable(this.activePath(runId));
  }

  async #v1Shards(): Promise<string[]> {
    return (await listIfExists(join(this.#dir, 'runs'))).filter((n) => /^\d{4}-\d{2}\.jsonl$/.test(n));
  }

  /** Records of the first format still in month JSONL files (none once migrated). */
  async v1Records(): Promise<RunRecord[]> {
    const records: RunRecord[] = [];
    for (const name of await this.#v1Shards()) {
      const file = join(this.#dir, 'runs', name);
      records.push(...parseLines((await readTextIfExists(file)) ?? '', file));
    }
    return records;
  }

  /**
   * Splits first-format shards into one file per run (exclusive create, so a concurrent migration
   * or an already migrated run is left alone), then renames each shard to `*.jsonl.migrated`.
   * Their state is already in state.json, so the records carry no commit to apply again.
   */
  async migrateV1(): Promise<number> {
    let migrated = 0;
    for (const name of await this.#v1Shards()) {
      const file = join(this.#dir, 'runs', name);
      for (const record of parseLines((await readTextIfExists(file)) ?? '', file)) {
        if (await this.writeRun(record)) migrated++;
      }
      await rename(file, `${file}.migrated`).catch((error: unknown) => {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      });
    }
    return migrated;
  }
}
