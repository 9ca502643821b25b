/** Reading and writing one part folder of the hand-off (layout in use-cases/handoff.ts); shared by the folder and artifact stores. */
import { copyFile, link, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunEvent } from '../model/events.ts';
import type { StateCommit } from '../model/state.ts';
import { HandoffError, tableFileName, type PartContents, type PartReport, type ReceivedPart } from '../use-cases/handoff.ts';

/** Writes a part folder afresh: tables/ (a hard link to each file where possible, else a copy), events.jsonl, commits.json, then part.json. */
export async function writePartFolder(dir: string, contents: PartContents): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(join(dir, 'tables'), { recursive: true });
  for (const [table, file] of Object.entries(contents.tables)) {
    const target = join(dir, 'tables', tableFileName(table));
    await link(file, target).catch(() => copyFile(file, target));
  }
  await writeFile(join(dir, 'events.jsonl'), contents.events.map((e) => `${JSON.stringify(e)}\n`).join(''));
  await writeFile(join(dir, 'commits.json'), JSON.stringify(contents.commits));
  // Last: a part is complete once its report is there.
  await writeFile(join(dir, 'part.json'), `${JSON.stringify(contents.report, null, 2)}\n`);
}

/** A part folder read back; undefined when it is absent or was never completed (no part.json). */
export async function readPartFolder(dir: string): Promise<ReceivedPart | undefined> {
  const reportText = await readFile(join(dir, 'part.json'), 'utf8').catch(() => undefined);
  if (reportText === undefined) return undefined;
  try {
    const report = JSON.parse(reportText) as PartReport;
    const events = (await readFile(join(dir, 'events.jsonl'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RunEvent);
    const commits = JSON.parse(await readFile(join(dir, 'commits.json'), 'utf8')) as Record<string, StateCommit>;
    const names = await readdir(join(dir, 'tables')).catch(() => [] as string[]);
    const tables = Object.fromEntries(names.filter((n) => n.endsWith('.parquet')).map((n) => [decodeURIComponent(n.slice(0, -'.parquet'.length)), join(dir, 'tables', n)]));
    return { report, events, commits, tables };
  } catch (error) {
    throw new HandoffError(`the hand-off part in ${dir} is damaged (${(error as Error).message}): run its segment again`);
  }
}
