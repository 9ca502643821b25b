/**
 * A run's report artifact: what it holds (`collectRunArtifact`) and its upload, which is optional
 * (`uploadRunArtifact`): a failed upload is a warning and never changes the run's result.
 *
 * The artifact, `weir-<pipeline>-<run id>`, holds report.md, report.html (self-contained),
 * stages.csv, checks.csv, run.json (the run record), dead-letters/<stage>.jsonl, and under files/
 * whatever the pipeline's `artifacts:` globs match in the project. It is staged in the run folder
 * (`<run dir>/artifact/`), so it goes away with the run folder.
 */
import { copyFile, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { glob } from 'tinyglobby';
import type { RunRecord } from '../ledger/run-record.ts';
import { renderChecksCsv, renderRunHtml, renderRunMarkdown, renderStagesCsv } from '../report/run-report.ts';

/** The port an entry point implements to keep an artifact (on GitHub: `@actions/artifact`). */
export interface ArtifactStore {
  upload(name: string, files: readonly string[], rootDirectory: string): Promise<{ id?: number; size?: number; digest?: string }>;
}

export interface CollectRunArtifactRequest {
  record: RunRecord;
  /** The run folder: dead-letter paths in the record are relative to it; the artifact is staged in it. */
  runDir: string;
  /** Project root: the `artifacts:` globs are relative to it. */
  root: string;
  /** The pipeline's `artifacts:` globs. */
  globs?: readonly string[];
}

export interface CollectedArtifact {
  name: string;
  /** The staging folder: every file is under it. */
  dir: string;
  /** Absolute paths of the files, in a stable order. */
  files: string[];
  /** Glob matches outside the project, left out. */
  skipped: string[];
}

export type ArtifactUploadResult =
  | { uploaded: true; name: string; id?: number; size?: number; digest?: string }
  | { uploaded: false; name: string; reason: string };

/** The fixed files of every run's artifact; the list `weir reports` expects to find. */
export const REPORT_FILES = ['report.md', 'report.html', 'stages.csv', 'checks.csv', 'run.json'] as const;

export function runArtifactName(record: Pick<RunRecord, 'pipeline' | 'runId'>): string {
  return `weir-${record.pipeline}-${record.runId}`;
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isFile() ?? false;
}

async function copyDeadLetters(record: RunRecord, runDir: string, dir: string): Promise<string[]> {
  const copied: string[] = [];
  for (const s of Object.values(record.stages)) {
    const file = s.deadLetters?.file;
    if (!file) continue;
    const source = isAbsolute(file) ? file : join(runDir, file);
    if (!(await isFile(source))) continue; // written by an attempt whose run folder was pruned or moved
    const target = join(dir, 'dead-letters', basename(source));
    await mkdir(dirname(target), { recursive: true });
    await copyFile(source, target);
    copied.push(target);
  }
  return copied;
}

async function copyPipelineFiles(root: string, globs: readonly string[], dir: string): Promise<{ copied: string[]; skipped: string[] }> {
  if (globs.length === 0) return { copied: [], skipped: [] };
  const matches = (await glob([...globs], { cwd: root, onlyFiles: true, dot: false, absolute: true })).sort();
  const copied: string[] = [];
  const skipped: string[] = [];
  for (const match of matches) {
    const path = relative(root, match);
    // A glob like ../secrets/* must not ship files from outside the project.
    if (path.startsWith('..') || isAbsolute(path)) {
      skipped.push(match);
      continue;
    }
    const target = join(dir, 'files', path);
    await mkdir(dirname(target), { recursive: true });
    await copyFile(match, target);
    copied.push(target);
  }
  return { copied, skipped };
}

/** Writes the artifact's files into `<run dir>/artifact/` (replacing an earlier collection) and lists them. */
export async function collectRunArtifact(request: CollectRunArtifactRequest): Promise<CollectedArtifact> {
  const { record } = request;
  const dir = join(resolve(request.runDir), 'artifact');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const reports: Record<(typeof REPORT_FILES)[number], string> = {
    'report.md': renderRunMarkdown(record),
    'report.html': renderRunHtml(record),
    'stages.csv': renderStagesCsv(record),
    'checks.csv': renderChecksCsv(record),
    'run.json': `${JSON.stringify(record, null, 2)}\n`,
  };
  for (const [name, text] of Object.entries(reports)) await writeFile(join(dir, name), text);
  const deadLetters = await copyDeadLetters(record, request.runDir, dir);
  const { copied, skipped } = await copyPipelineFiles(request.root, request.globs ?? [], dir);
  return { name: runArtifactName(record), dir, files: [...REPORT_FILES.map((f) => join(dir, f)), ...deadLetters, ...copied], skipped };
}

export interface UploadRunArtifactDeps {
  store: ArtifactStore;
  warn(message: string): void;
}

/** Uploads a collected artifact; any failure becomes a warning and `{ uploaded: false }`, never an error. */
export async function uploadRunArtifact(artifact: CollectedArtifact, deps: UploadRunArtifactDeps): Promise<ArtifactUploadResult> {
  try {
    const result = await deps.store.upload(artifact.name, artifact.files, artifact.dir);
    return { uploaded: true, name: artifact.name, ...result };
  } catch (error) {
    // The client's messages run over several lines (a paragraph about self-hosted runners): keep the first.
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.trim();
    deps.warn(`the report artifact '${artifact.name}' was not uploaded (${reason}); the run's result is unchanged and its reports are in ${artifact.dir}`);
    return { uploaded: false, name: artifact.name, reason };
  }
}

/** Collects a finished run's artifact and uploads it: what an entry point calls after recording the run. */
export async function publishRunArtifact(request: CollectRunArtifactRequest, deps: UploadRunArtifactDeps): Promise<ArtifactUploadResult> {
  let artifact: CollectedArtifact;
  try {
    artifact = await collectRunArtifact(request);
  } catch (error) {
    const name = runArtifactName(request.record);
    const reason = error instanceof Error ? error.message : String(error);
    deps.warn(`the report artifact '${name}' could not be collected (${reason}); the run's result is unchanged`);
    return { uploaded: false, name, reason };
  }
  for (const path of artifact.skipped) deps.warn(`artifacts: ${path} is outside the project and was left out of '${artifact.name}'`);
  return uploadRunArtifact(artifact, deps);
}
