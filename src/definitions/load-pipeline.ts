/**
 * Loads one pipeline file into a validated `LoadedPipeline`, or diagnostics saying what to fix.
 * Reads the YAML and, when asked, referenced files; never runs stage code and never writes.
 *
 * Every rule reads the raw document defensively, so one pass reports schema errors together with
 * graph, reference, schedule and template errors instead of one layer at a time.
 */
import type { PolicyConfig } from '../policies/policy.ts';
import { readFile } from 'node:fs/promises';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { compareDiagnostics, type Diagnostic, hasErrors } from '../model/diagnostic.ts';
import { type LoadedPipeline, Pipeline } from '../model/pipeline.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { checkCron } from './cron.ts';
import { checkParamsAndTemplates } from './param-rules.ts';
import { asRecord, report, type RuleContext } from './rule-context.ts';
import { reportIssues } from './schema-issues.ts';
import { checkStages } from './stage-rules.ts';
import { checkWritePaths } from './write-path-rules.ts';
import { checkConsistency } from './consistency-rules.ts';
import { checkShards } from './shard-rules.ts';
import { resolveWritePath, type WritePathResult } from '../model/write-paths.ts';
import { parseYamlSource, type YamlSource } from './yaml-parse.ts';

export interface LoadOptions {
  kinds: StageKindRegistry;
  /** Whether a path relative to the project root exists (SQL files, scripts). */
  fileExists: (relPath: string) => boolean;
  /** Text of a referenced file, to count the params its templates use; omitted: not read. */
  readFile?: (relPath: string) => string | undefined;
  /** Policies from weir.yml; built-ins are always known. */
  policies?: PolicyConfig;
  /** Channel names from weir.yml (notify.to is checked against them); omitted: not checked. */
  channels?: readonly string[];
  /** Whether a path a stage writes stays inside the project (resolveWritePath); omitted: not checked. */
  checkWritePath?: (relPath: string) => WritePathResult;
}

export interface LoadResult {
  /** Present when there is no error (warnings allowed). */
  pipeline?: LoadedPipeline;
  /** Sorted by position. */
  diagnostics: Diagnostic[];
}

/** Validates the text of a pipeline file named `file`. Pure apart from the injected callbacks. */
export function loadPipelineSource(text: string, file: string, options: LoadOptions): LoadResult {
  const parsed = parseYamlSource(text, file);
  if (!parsed.source) return { diagnostics: parsed.diagnostics };
  const ctx: RuleContext = { source: parsed.source, file, diagnostics: parsed.diagnostics };
  const document = asRecord(parsed.source.value);
  if (!document) {
    const what = parsed.source.value === null || parsed.source.value === undefined ? 'is empty' : 'is not a mapping';
    report(ctx, 'WEIR101', [], `the pipeline file ${what}: write a mapping with at least name: and stages:`);
    return { diagnostics: ctx.diagnostics };
  }
  const result = Pipeline.safeParse(document, { reportInput: true });
  if (!result.success) reportIssues(ctx, result.error.issues, { base: [], schema: Pipeline });
  checkDocument(ctx, document, options);
  const diagnostics = ctx.diagnostics.sort(compareDiagnostics);
  if (!result.success || hasErrors(diagnostics)) return { diagnostics };
  return { pipeline: { spec: result.data, file, locate: positionLocator(parsed.source) }, diagnostics };
}

function checkDocument(ctx: RuleContext, document: Record<string, unknown>, options: LoadOptions): void {
  const stages = asRecord(document.stages);
  if (stages && Object.keys(stages).length === 0) {
    report(ctx, 'WEIR104', ['stages'], 'the pipeline has no stages: add at least one under stages:');
  }
  const existingFiles = stages ? checkStages(ctx, stages, options) : [];
  if (stages && options.checkWritePath) checkWritePaths(ctx, stages, options.checkWritePath);
  if (stages) checkShards(ctx, stages, options.kinds);
  checkConsistency(ctx, document, stages ?? {}, options.channels);
  checkSchedule(ctx, asRecord(document.schedule));
  const referenced = options.readFile ? existingFiles.flatMap((file) => {
    const text = options.readFile?.(file.path);
    return text === undefined ? [] : [{ ...file, text }];
  }) : [];
  checkParamsAndTemplates(ctx, asRecord(document.params) ?? {}, referenced);
}

function checkSchedule(ctx: RuleContext, schedule: Record<string, unknown> | undefined): void {
  if (!schedule || typeof schedule.cron !== 'string') return;
  const timezone = typeof schedule.timezone === 'string' ? schedule.timezone : 'UTC';
  for (const problem of checkCron(schedule.cron, timezone)) {
    report(ctx, problem.code, ['schedule', problem.field], problem.message, { severity: problem.severity });
  }
}

function positionLocator(source: YamlSource): LoadedPipeline['locate'] {
  return (at) => {
    const range = source.locate(at);
    return { line: range.line, column: range.column };
  };
}

export interface LoadFileOptions {
  /** Project root: the folder holding pipelines/; referenced paths resolve against it. */
  root: string;
  kinds: StageKindRegistry;
  policies?: PolicyConfig;
  /** weir.yml's allow_write_paths: folders outside the root that stages may write to. Default: none. */
  allowWritePaths?: readonly string[];
  /** Channel names from weir.yml; omitted: notify.to is not checked. */
  channels?: readonly string[];
}

/** Reads and validates `file` (relative to `root`, or absolute). Diagnostics name `file` as given. */
export async function loadPipelineFile(file: string, options: LoadFileOptions): Promise<LoadResult> {
  const text = await readFile(path.resolve(options.root, file), 'utf8');
  const resolve = (relPath: string): string => path.resolve(options.root, relPath);
  return loadPipelineSource(text, file, {
    kinds: options.kinds,
    policies: options.policies,
    channels: options.channels,
    fileExists: (relPath) => existsSync(resolve(relPath)),
    checkWritePath: (relPath) => resolveWritePath(options.root, relPath, options.allowWritePaths ?? []),
    readFile: (relPath) => (statSync(resolve(relPath)).isFile() ? readFileSync(resolve(relPath), 'utf8') : undefined),
  });
}
