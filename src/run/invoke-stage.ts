/**
 * Runs one stage for the executor: renders its `with`, parses it with the kind's schema, runs it
 * under the stage timeout, then runs its data-quality checks.
 */
import type { ZodError } from 'zod';
import type { Database } from '../adapters/duckdb.ts';
import { formatDuration, parseDuration } from '../model/duration.ts';
import { CheckFailedError, StageFailedError, StageTimeoutError } from '../model/errors.ts';
import type { CheckResult, RunEvent } from '../model/events.ts';
import { renderDeep, renderTemplate, type TemplateContext } from '../model/template.ts';
import type { StageOutcome } from '../executor/execute-plan.ts';
import type { PlannedStage } from '../planner/plan.ts';
import { assertChecksPassed, runChecks } from '../stages/checks.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import type { PipelineStateView, StageContext, StageResult } from '../stages/stage-kind.ts';

export interface InvokeDeps {
  runId: string;
  pipeline: string;
  kinds: StageKindRegistry;
  db: Database;
  root: string;
  runDir: string;
  state: PipelineStateView;
  env: Readonly<Record<string, string | undefined>>;
  templateContext(stage: string): TemplateContext;
  emit(event: RunEvent): void;
  now(): number;
  /** Called with each successful stage's result, to commit its state when the run succeeds. */
  collect(stage: string, result: StageResult): void;
}

function describeZodError(error: ZodError): string {
  return error.issues.map((i) => `${i.path.length ? `with.${i.path.join('.')}: ` : ''}${i.message}`).join('; ');
}

/** Resolves with the work, or rejects with the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function stageContext(stage: PlannedStage, attempt: number, signal: AbortSignal, deps: InvokeDeps): StageContext {
  const template = deps.templateContext(stage.name);
  const at = () => new Date(deps.now()).toISOString();
  const log = (stream: 'stdout' | 'stderr' | 'info' | 'warn') => (line: string) =>
    deps.emit({ type: 'stage.log', runId: deps.runId, at: at(), stage: stage.name, stream, line });
  return {
    runId: deps.runId,
    pipeline: deps.pipeline,
    stage: stage.name,
    attempt,
    signal,
    db: deps.db,
    root: deps.root,
    runDir: deps.runDir,
    render: (text) => renderTemplate(text, template),
    log: { info: log('info'), warn: log('warn'), stdout: log('stdout'), stderr: log('stderr') },
    state: deps.state,
    env: deps.env,
  };
}

async function runAttempt(stage: PlannedStage, attempt: number, signal: AbortSignal, deps: InvokeDeps) {
  const kind = deps.kinds.get(stage.uses);
  if (!kind) throw new StageFailedError(`stage kind '${stage.uses}' is not known`, { stage: stage.name });
  const ctx = stageContext(stage, attempt, signal, deps);
  const rendered = renderDeep(stage.spec.with ?? {}, deps.templateContext(stage.name));
  const parsed = kind.with.safeParse(rendered);
  if (!parsed.success) {
    throw new StageFailedError(`stage '${stage.name}' settings are invalid after templating: ${describeZodError(parsed.error)}`, { stage: stage.name });
  }
  const result = await untilAborted(kind.run(ctx, parsed.data), signal);
  let checks: CheckResult[] | undefined;
  if (stage.spec.checks?.length) {
    const table = result.table ?? (parsed.data as { table?: string }).table ?? stage.name;
    const results = await runChecks(deps.db, table, stage.spec.checks, signal);
    checks = results;
    try {
      assertChecksPassed(results, stage.name);
    } catch (error) {
      throw Object.assign(error as Error, { checks: results });
    }
  }
  return { result, checks };
}

export async function invokeStage(stage: PlannedStage, runSignal: AbortSignal, deps: InvokeDeps): Promise<StageOutcome> {
  const attempt = 1;
  const timeoutMs = stage.spec.timeout === undefined ? undefined : parseDuration(stage.spec.timeout);
  const timeout = new AbortController();
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          const message = `stage '${stage.name}' exceeded its timeout of ${formatDuration(timeoutMs)} and was stopped; raise 'timeout' or make the stage faster`;
          timeout.abort(new StageTimeoutError(message, { stage: stage.name, attempt, correlationId: `${deps.runId}/${stage.name}` }));
        }, timeoutMs);
  const signal = AbortSignal.any([runSignal, timeout.signal]);
  try {
    const { result, checks } = await runAttempt(stage, attempt, signal, deps);
    deps.collect(stage.name, result);
    return { ok: true, attempt, rows: result.rows, table: result.table, outputs: result.outputs, checks };
  } catch (error) {
    const checks = error instanceof CheckFailedError ? (error as CheckFailedError & { checks?: CheckResult[] }).checks : undefined;
    return { ok: false, attempt, error, checks };
  } finally {
    if (timer) clearTimeout(timer);
  }
}
