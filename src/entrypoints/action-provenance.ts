/**
 * Where a run in Actions came from, recorded on the run: the runner's `GITHUB_*` variables and a
 * sha256 of the pipeline file and of each project file its YAML names (SQL files, scripts), so a
 * record says exactly which definition ran.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { relative, resolve, sep } from 'node:path';
import type { RunProvenance } from '../model/events.ts';
import type { LoadedPipeline } from '../model/pipeline.ts';

type Env = Readonly<Record<string, string | undefined>>;

async function sha256Of(file: string): Promise<string> {
  return createHash('sha256').update(await readFile(file)).digest('hex');
}

function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) yield* stringsIn(item);
}

/**
 * Project files the pipeline names: every word of its strings that is the path of a file inside
 * the root (`query: pipelines/sql/clean.sql`, `run: python scripts/load.py`). Stage kinds do not
 * declare which fields are paths, so every word is tried; templated words cannot be resolved
 * before the run and are left out.
 */
async function referencedFiles(pipeline: LoadedPipeline, root: string): Promise<string[]> {
  const words = new Set<string>();
  for (const text of stringsIn(pipeline.spec)) {
    if (text.includes('{{')) continue;
    for (const word of text.split(/\s+/)) if (/^[\w./-]+\.\w+$/.test(word)) words.add(word);
  }
  const files: string[] = [];
  for (const word of [...words].sort()) {
    const path = resolve(root, word);
    if (!path.startsWith(root + sep)) continue;
    if ((await stat(path).catch(() => undefined))?.isFile()) files.push(relative(root, path).replaceAll('\\', '/'));
  }
  return files;
}

/** The run's provenance from the runner's environment and the project's files. */
export async function collectProvenance(pipeline: LoadedPipeline, root: string, env: Env): Promise<RunProvenance> {
  const pipelineFile = relative(root, resolve(root, pipeline.file)).replaceAll('\\', '/');
  const files: Record<string, string> = { [pipelineFile]: await sha256Of(resolve(root, pipelineFile)) };
  for (const file of await referencedFiles(pipeline, root)) files[file] ??= await sha256Of(resolve(root, file));
  const runUrl = env.GITHUB_RUN_ID && env.GITHUB_REPOSITORY ? `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}` : undefined;
  const provenance: RunProvenance = {
    commit: env.GITHUB_SHA,
    ref: env.GITHUB_REF,
    event: env.GITHUB_EVENT_NAME,
    actor: env.GITHUB_ACTOR,
    workflowRunUrl: runUrl,
    runAttempt: env.GITHUB_RUN_ATTEMPT ? Number(env.GITHUB_RUN_ATTEMPT) : undefined,
    files,
  };
  // Only what is known: a record carries no empty keys.
  return Object.fromEntries(Object.entries(provenance).filter(([, value]) => value !== undefined && value !== '')) as RunProvenance;
}

/** The run's trigger from the event that started the workflow. */
export function triggerOf(env: Env): string {
  const event = env.GITHUB_EVENT_NAME;
  if (event === 'schedule') return 'schedule';
  if (event === 'workflow_dispatch') return 'manual';
  return event ? `github:${event}` : 'manual';
}
