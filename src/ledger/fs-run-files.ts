/**
 * A pipeline's run records on disk:
 *
 *   runs/<YYYY-MM>/<DD>/<run id>.json   finished runs, written once (exclusive create), by UTC start day
 *   active/<run id>.json           runs in progress (atomic overwrite)
 *   runs/<YYYY-MM>.jsonl           the first ledger format, read until `migrateV1` splits it
 */
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileExclusive, existsFile, listIfExists, readJsonIfExists, readTextIfExists, removeDurable, writeFileDurable } from './durable-file.ts';
import { sortNewestFirst, tryParseRunId } from './run-id.ts';
import type { RunRecord } from './run-record.ts';

const MONTH = /^\d{4}-\d{2}$/;
const DAY = /^\d{2}$/;

/**
 * The folder of a run: `YYYY-MM/DD`, the UTC day its id says it started (its `startedAt` for ids
 * weir did not make), so an id alone finds its file. Day folders, not month folders: the newest 20
 * of 10,000 runs a month must not cost a 10,000-name directory listing.
 */
export function dayOf(record: RunRecord): string {
  return tryParseRunId(record.runId)?.day ?? `${record.startedAt.slice(0, 7)}/${record.startedAt.slice(8, 10)}`;
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

  runPath(day: string, runId: string): string {
    return join(this.#dir, 'runs', day, `${runId}.json`);
  }

  activePath(runId: string): string {
    return join(this.#dir, 'active', `${runId}.json`);
  }

  /** Month folders (`YYYY-MM`), newest first. */
  async months(): Promise<string[]> {
    return (await listIfExists(join(this.#dir, 'runs'))).filter((n) => MONTH.test(n)).sort().reverse();
  }

  /** Day folders (`YYYY-MM/DD`), newest first, listed lazily month by month; `months` narrows them. */
  async *days(months?: string[]): AsyncGenerator<string> {
    for (const month of months ?? (await this.months())) {
      const days = (await listIfExists(join(this.#dir, 'runs', month))).filter((n) => DAY.test(n)).sort().reverse();
      for (const day of days) yield `${month}/${day}`;
    }
  }

  /** Run ids finished in `day`, newest first (names only: no record is read). */
  async idsIn(day: string): Promise<string[]> {
    return sortNewestFirst(jsonNames(await listIfExists(join(this.#dir, 'runs', day))));
  }

  readRun(day: string, runId: string): Promise<RunRecord | undefined> {
    return readJsonIfExists<RunRecord>(this.runPath(day, runId));
  }

  isFinished(day: string, runId: string): Promise<boolean> {
    return existsFile(this.runPath(day, runId));
  }

  /** Writes the finished record unless one exists; false when the run was already recorded. */
  writeRun(record: RunRecord): Promise<boolean> {
    return createFileExclusive(this.runPath(dayOf(record), record.runId), JSON.stringify(record));
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
