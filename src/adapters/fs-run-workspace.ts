/**
 * Run folders on the local disk: `<stateDir>/runs/<pipeline>/<run id>/` holding
 *
 *   events.jsonl              every event of the run, appended synchronously as it happens
 *   weir.duckdb               the run's database
 *   outputs/<stage>.parquet      each stage's table as it left the stage (for --from, --only, resume)
 *   outputs/<stage>.output.json  marks that output complete (written after the Parquet file)
 *   outputs/<stage>.commit.json  the stage's state commit (processed files, watermarks)
 *   dead-letters/, http/ …    what stages write
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { quoteIdent, quoteLiteral, type Database } from '../model/database.ts';
import type { RunEvent } from '../model/events.ts';
import { mergeCommitList, type StateCommit } from '../model/state.ts';
import type { RunWorkspace, WorkspaceStore } from '../use-cases/run-deps.ts';

const OUTPUTS = 'outputs';

function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

class FsRunWorkspace implements RunWorkspace {
  readonly runId: string;
  readonly pipeline: string;
  readonly dir: string;
  readonly databasePath: string;
  #eventFd: number | undefined;

  constructor(pipeline: string, runId: string, dir: string) {
    this.pipeline = pipeline;
    this.runId = runId;
    this.dir = dir;
    this.databasePath = join(dir, 'weir.duckdb');
  }

  appendEvent(event: RunEvent): void {
    // Synchronous: the log is what recovery and resume read after a kill -9, so an event the run
    // reported must already be in the file. One small write per event costs microseconds.
    this.#eventFd ??= openSync(join(this.dir, 'events.jsonl'), 'a');
    writeSync(this.#eventFd, `${JSON.stringify(event)}\n`);
  }

  async readEvents(): Promise<RunEvent[]> {
    const text = await readFile(join(this.dir, 'events.jsonl'), 'utf8').catch(() => '');
    const events: RunEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        events.push(JSON.parse(line) as RunEvent);
      } catch {
        break; // a line torn by a kill is the last one: stop there
      }
    }
    return events;
  }

  #output(stage: string, ext: string): string {
    return join(this.dir, OUTPUTS, `${encodeURIComponent(stage)}.${ext}`);
  }

  async saveStageCommit(stage: string, commit: StateCommit | undefined): Promise<void> {
    await mkdir(join(this.dir, OUTPUTS), { recursive: true });
    await writeFile(this.#output(stage, 'commit.json'), JSON.stringify({ commit: commit ?? null }));
  }

  async saveStageTable(db: Pick<Database, 'exec'>, stage: string, table: string | undefined, signal?: AbortSignal): Promise<void> {
    await mkdir(join(this.dir, OUTPUTS), { recursive: true });
    if (table !== undefined) {
      const file = this.#output(stage, 'parquet');
      const temp = `${file}.partial`;
      await db.exec(`COPY (SELECT * FROM ${quoteIdent(table)}) TO ${quoteLiteral(temp)} (FORMAT parquet)`, signal);
      await rename(temp, file);
    }
    // Written last: an output is usable only once this marker exists.
    await writeFile(this.#output(stage, 'output.json'), JSON.stringify({ table: table ?? null }));
  }

  async keepStageTableInDatabase(stage: string, table: string | undefined): Promise<void> {
    await mkdir(join(this.dir, OUTPUTS), { recursive: true });
    await writeFile(this.#output(stage, 'output.json'), JSON.stringify({ table: table ?? null, in: 'database' }));
  }

  async keepReusedCommit(stage: string, fromRunId: string, commit: StateCommit | undefined): Promise<void> {
    // Only the commit: the table stays in the run that produced it (`reusedFrom` leads there).
    await mkdir(join(this.dir, OUTPUTS), { recursive: true });
    await writeFile(this.#output(stage, 'commit.json'), JSON.stringify({ commit: commit ?? null, reusedFrom: fromRunId }));
  }

  async readCommit(): Promise<StateCommit | undefined> {
    const names = (await readdir(join(this.dir, OUTPUTS)).catch(() => [] as string[])).filter((n) => n.endsWith('.commit.json')).sort();
    if (names.length === 0) return undefined;
    const parts = await Promise.all(names.map(async (n) => (JSON.parse(await readFile(join(this.dir, OUTPUTS, n), 'utf8')) as { commit: StateCommit | null }).commit));
    return mergeCommitList(parts.filter((c): c is StateCommit => c !== null));
  }

  async hasStageOutput(stage: string): Promise<boolean> {
    return exists(this.#output(stage, 'output.json'));
  }

  async restoreStageOutput(db: Database, stage: string, table: string | undefined): Promise<StateCommit | undefined> {
    // Either file may be absent: a stage without a table keeps no output, one without state no commit.
    const output = JSON.parse(await readFile(this.#output(stage, 'output.json'), 'utf8').catch(() => '{"table":null}')) as { table: string | null; in?: 'database' };
    const saved = JSON.parse(await readFile(this.#output(stage, 'commit.json'), 'utf8').catch(() => '{"commit":null}')) as { commit: StateCommit | null };
    const target = table ?? output.table ?? undefined;
    if (output.table !== null && target !== undefined && output.in === 'database') {
      // Read-only, under a name no pipeline uses; the run that wrote it has closed it (the lease).
      const alias = `weir_source_${randomBytes(4).toString('hex')}`;
      await db.exec(`ATTACH ${quoteLiteral(this.databasePath)} AS ${alias} (READ_ONLY)`);
      try {
        await db.exec(`CREATE OR REPLACE TABLE ${quoteIdent(target)} AS SELECT * FROM ${alias}.${quoteIdent(output.table)}`);
      } finally {
        await db.exec(`DETACH ${alias}`);
      }
    } else if (output.table !== null && target !== undefined) {
      await db.exec(`CREATE OR REPLACE TABLE ${quoteIdent(target)} AS SELECT * FROM read_parquet(${quoteLiteral(this.#output(stage, 'parquet'))})`);
    }
    return saved.commit ?? undefined;
  }

  async close(): Promise<void> {
    if (this.#eventFd !== undefined) closeSync(this.#eventFd);
    this.#eventFd = undefined;
  }
}

export class FsWorkspaceStore implements WorkspaceStore {
  readonly runsDir: string;

  /** @param runsDir `<stateDir>/runs` */
  constructor(runsDir: string) {
    this.runsDir = runsDir;
  }

  #dir(pipeline: string, runId: string): string {
    return join(this.runsDir, pipeline, runId);
  }

  async create(pipeline: string, runId: string): Promise<RunWorkspace> {
    const dir = this.#dir(pipeline, runId);
    mkdirSync(dir, { recursive: true });
    return new FsRunWorkspace(pipeline, runId, dir);
  }

  async open(pipeline: string, runId: string): Promise<RunWorkspace | undefined> {
    const dir = this.#dir(pipeline, runId);
    return (await exists(dir)) ? new FsRunWorkspace(pipeline, runId, dir) : undefined;
  }

  folderOf(pipeline: string, runId: string): string {
    return this.#dir(pipeline, runId);
  }

  async prune(pipeline: string, keep: number, protect: ReadonlySet<string>): Promise<void> {
    const names = (await readdir(join(this.runsDir, pipeline)).catch(() => [] as string[])).sort().reverse();
    const stale = names.slice(keep).filter((name) => !protect.has(name));
    await Promise.all(stale.map((name) => rm(join(this.runsDir, pipeline, name), { recursive: true, force: true })));
  }
}
