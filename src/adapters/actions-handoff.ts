/**
 * The hand-off in GitHub Actions: artifacts of the workflow run, through the real
 * `@actions/artifact` client (the Actions results service named by ACTIONS_RESULTS_URL and
 * ACTIONS_RUNTIME_TOKEN). One artifact for the run's context, one per part:
 *
 *   weir-<run id>-context                  context.json
 *   weir-<run id>-<segment>[.shard-<i>]    the part folder (use-cases/handoff.ts)
 *
 * A job re-run after a failure replaces its part: the earlier artifact of that name is deleted first.
 */
import { readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ArtifactNotFoundError, DefaultArtifactClient } from '@actions/artifact';
import { HANDOFF_FORMAT, HandoffError, partName, type HandoffContext, type HandoffStore, type PartContents, type PartId, type ReceivedPart } from '../use-cases/handoff.ts';
import { readPartFolder, writePartFolder } from './handoff-part.ts';

export interface ActionsHandoffOptions {
  /** Where downloaded parts are unpacked (the runner's temp folder). */
  tempDir: string;
  /** Days the hand-off artifacts are kept: they are only needed until finalize. Default 1. */
  retentionDays?: number;
}

export function handoffArtifactName(runId: string, part: PartId | 'context'): string {
  return `weir-${runId}-${part === 'context' ? 'context' : partName(part)}`;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

export function createActionsHandoffStore(options: ActionsHandoffOptions): HandoffStore {
  const client = new DefaultArtifactClient();
  const retentionDays = options.retentionDays ?? 1;

  /** Downloads an artifact of this workflow run into a fresh folder; undefined when there is none. */
  const download = async (name: string): Promise<string | undefined> => {
    let id: number;
    try {
      id = (await client.getArtifact(name)).artifact.id;
    } catch (error) {
      if (error instanceof ArtifactNotFoundError || (error as Error)?.name === 'ArtifactNotFoundError') return undefined;
      throw error;
    }
    const path = join(options.tempDir, 'weir-handoff', name);
    await rm(path, { recursive: true, force: true });
    await mkdir(path, { recursive: true });
    await client.downloadArtifact(id, { path });
    return path;
  };

  const upload = async (name: string, dir: string): Promise<void> => {
    // A re-run job uploads its part again: the name must be free.
    await client.deleteArtifact(name).catch(() => undefined);
    // Level 0: the tables are Parquet, compressed already; zipping them again costs time and saves nothing.
    await client.uploadArtifact(name, await filesUnder(dir), dir, { retentionDays, compressionLevel: 0 });
  };

  return {
    async writeContext(context: HandoffContext) {
      const dir = join(options.tempDir, 'weir-handoff', `context-${context.runId}`);
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'context.json'), JSON.stringify(context));
      await upload(handoffArtifactName(context.runId, 'context'), dir);
    },
    async readContext(runId?: string) {
      if (!runId) throw new HandoffError("a segment job needs the run's id: pass 'run-id: ${{ needs.plan.outputs.run-id }}' to the action");
      const dir = await download(handoffArtifactName(runId, 'context'));
      if (!dir) throw new HandoffError(`run ${runId} has no context artifact in this workflow run: the plan job must run first (needs: plan)`);
      const context = JSON.parse(await readFile(join(dir, 'context.json'), 'utf8')) as HandoffContext;
      if (context.format !== HANDOFF_FORMAT) throw new HandoffError(`run ${runId} was planned by another weir version (hand-off format ${context.format}, this one reads ${HANDOFF_FORMAT}): use one version of the action in every job`);
      return context;
    },
    async putPart(runId: string, part: PartId, contents: PartContents) {
      const name = handoffArtifactName(runId, part);
      const dir = join(options.tempDir, 'weir-handoff', `${name}.upload`);
      await writePartFolder(dir, contents);
      await upload(name, dir);
      await rm(dir, { recursive: true, force: true });
    },
    async getPart(runId: string, part: PartId): Promise<ReceivedPart | undefined> {
      const dir = await download(handoffArtifactName(runId, part));
      return dir === undefined ? undefined : readPartFolder(dir);
    },
  };
}
