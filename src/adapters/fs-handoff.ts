/**
 * The hand-off as a folder shared by the jobs of a run (`--handoff <dir>`): the distributed path
 * reproduced on one machine, process by process, for tests and debugging.
 *
 *   <dir>/<run id>/context.json
 *   <dir>/<run id>/parts/<segment>[.shard-<i>]/…   (the part folder, see use-cases/handoff.ts)
 *
 * A part is copied into a temporary folder beside its place and renamed there, so a reader never
 * sees half a part; uploading the same part again replaces it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { HANDOFF_FORMAT, HandoffError, partName, type HandoffContext, type HandoffStore, type PartContents, type PartId, type ReceivedPart } from '../use-cases/handoff.ts';
import { readPartFolder, writePartFolder } from './handoff-part.ts';

export class FsHandoffStore implements HandoffStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = resolve(dir);
  }

  async writeContext(context: HandoffContext): Promise<void> {
    const folder = join(this.dir, context.runId);
    await mkdir(folder, { recursive: true });
    const temp = join(folder, `.context.${randomBytes(4).toString('hex')}.json`);
    await writeFile(temp, `${JSON.stringify(context, null, 2)}\n`);
    await rename(temp, join(folder, 'context.json'));
  }

  async readContext(runId?: string): Promise<HandoffContext> {
    const id = runId ?? (await this.#onlyRun());
    const text = await readFile(join(this.dir, id, 'context.json'), 'utf8').catch(() => undefined);
    if (text === undefined) throw new HandoffError(`the hand-off folder ${this.dir} has no run '${id}': start it with 'weir plan <pipeline> --segments --handoff ${this.dir}'`);
    const context = JSON.parse(text) as HandoffContext;
    if (context.format !== HANDOFF_FORMAT) throw new HandoffError(`run '${id}' in ${this.dir} was planned by another weir version (hand-off format ${context.format}, this one reads ${HANDOFF_FORMAT}): plan it again`);
    return context;
  }

  async #onlyRun(): Promise<string> {
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => !n.startsWith('.')).sort();
    if (names.length === 1) return names[0];
    if (names.length === 0) throw new HandoffError(`the hand-off folder ${this.dir} holds no run: start one with 'weir plan <pipeline> --segments --handoff ${this.dir}'`);
    throw new HandoffError(`the hand-off folder ${this.dir} holds several runs (${names.join(', ')}): name one with --run <id>`);
  }

  async putPart(runId: string, part: PartId, contents: PartContents): Promise<void> {
    const parts = join(this.dir, runId, 'parts');
    await mkdir(parts, { recursive: true });
    const target = join(parts, partName(part));
    const temp = join(parts, `.${partName(part)}.${randomBytes(4).toString('hex')}`);
    await writePartFolder(temp, contents);
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  }

  async getPart(runId: string, part: PartId): Promise<ReceivedPart | undefined> {
    return readPartFolder(join(this.dir, runId, 'parts', partName(part)));
  }
}
