/**
 * Runs one stage for the executor: resolves its policy, renders `with` and parses it with the
 * kind's schema (once), then for each attempt runs the kind under the attempt's timeout, sets aside
 * dead letters and runs the stage's checks. Retries, breakers and rate limits come from src/policies.
 */
import type { ZodError } from 'zod';
import type { Database } from '../model/database.ts';
import { formatDuration } from '../model/duration.ts';
import { ConfigError, ResourceUnavailableError, StageTimeoutError, toErrorRecord } from '../model/errors.ts';
import type { CheckResult, RunEvent } from '../model/events.ts';
import { resourceUnavailableMessage, type ResourceName, type ResourceReport } from '../model/resources.ts';
import { evaluateCondition, renderDeep, renderTemplate, TemplateError, type TemplateContext } from '../model/template.ts';
import type { StageOutcome } from '../executor/execute-plan.ts';
import type { PlannedStage } from '../planner/plan.ts';
import type { BreakerRegistry } from '../policies/circuit-breaker.ts';
import { PermanentStageError, redactUrl } from '../policies/errors.ts';
import { downloadWithPolicy, fetchWithPolicy, type HttpPolicyDeps } from '../policies/http.ts';
import { dependencyKey, type ResolvedPolicy } from '../policies/policy.ts';
import type { RateLimiterRegistry } from '../policies/rate-limit.ts';
import { executeWithPolicy } from '../policies/retry.ts';
import type { AnyStageKind, StageKindRegistry } from '../stages/registry.ts';
import type { PipelineStateView, StageContext, StageResult } from '../stages/stage-kind.ts';
import { resolveWritePath } from '../model/write-paths.ts';
import { clearDeadLetters, settleDeadLetters, type DeadLetterSummary } from './dead-letter-stage.ts';
import { evaluateSets } from './stage-sets.ts';

export interface InvokeDeps {
  runId: string;
  pipeline: string;
  kinds: StageKindRegistry;
  db: Database;
  root: string;
  runDir: string;
  state: PipelineStateView;
  env: Readonly<Record<string, string | undefined>>;
  breakers: BreakerRegistry;
  limiters: RateLimiterRegistry;
  /** What the machine offers of a resource stages `require` (gpu), detected before the run; undefined: not detected. */
  resource(name: ResourceName): ResourceReport | undefined;
  templateContext(stage: string): TemplateContext;
  emit(event: RunEvent): void;
  now(): number;
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  random(): number;
  /** Called with each successful stage's result, to commit its state when the run succeeds. */
  collect(stage: string, result: StageResult): void;
  /** Folders outside the project that stages may write to (weir.yml `allow_write_paths`). */
  allowWritePaths?: readonly string[];
  /** Replaces known secret values in what a stage writes besides events (dead letters). */
  redact?(text: string): string;
  /** Ledger flags and parking, for `gate` stages (gates issue). */
  gate?: { flags(key?: string): Promise<Record<string, unknown>>; parkedAt(): string | undefined };
}

interface Attempt {
  stage: PlannedStage;
  kind: AnyStageKind;
  policy: ResolvedPolicy;
  /** The stage's `with`, rendered and parsed once before the first attempt. */
  config: unknown;
  number: number;
  signal: AbortSignal;
  deps: InvokeDeps;
  /** Counts attempts across stage retries and request retries, for the ledger. */
  counter: { attempts: number };
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

function stageContext(a: Attempt, sink: StageContext['deadLetter']): StageContext {
  const { stage, deps } = a;
  const template = deps.templateContext(stage.name);
  const at = () => new Date(deps.now()).toISOString();
  const log = (stream: 'stdout' | 'stderr' | 'info' | 'warn') => (line: string) =>
    deps.emit({ type: 'stage.log', runId: deps.runId, at: at(), stage: stage.name, stream, line });
  const policyDeps = (url: string): HttpPolicyDeps => ({
      stage: stage.name,
      signal: a.signal,
      sleep: deps.sleep,
      random: deps.random,
      now: deps.now,
      breakers: deps.breakers,
      limiters: deps.limiters,
      onRateLimitWait: (key, waitedMs) => deps.emit({ type: 'ratelimit.waited', runId: deps.runId, at: at(), stage: stage.name, key, waitedMs }),
      onRetry: (_n, error, delayMs) => {
        deps.emit({ type: 'stage.retrying', runId: deps.runId, at: at(), stage: stage.name, attempt: a.counter.attempts, error: toErrorRecord(error), delayMs, target: redactUrl(url) });
        a.counter.attempts++;
      },
    });
  const fetch = (url: string, init: RequestInit = {}) => fetchWithPolicy(url, init, a.policy, policyDeps(url));
  const download = (url: string, init: RequestInit = {}, file: string) => downloadWithPolicy(url, init, file, a.policy, policyDeps(url));
  return {
    runId: deps.runId,
    pipeline: deps.pipeline,
    stage: stage.name,
    attempt: a.number,
    signal: a.signal,
    db: deps.db,
    root: deps.root,
    runDir: deps.runDir,
    render: (text) => renderOrFail(stage.name, () => renderTemplate(text, template)),
    log: { info: log('info'), warn: log('warn'), stdout: log('stdout'), stderr: log('stderr') },
    fetch,
    download,
    deadLetter: sink,
    state: deps.state,
    env: deps.env,
    writePath: (path, field) => {
      const checked = resolveWritePath(deps.root, path, deps.allowWritePaths ?? []);
      if (checked.ok) return checked.resolved;
      throw new PermanentStageError(
        `stage '${stage.name}': ${field} '${path}' would write to ${checked.resolved}, outside the project (${checked.reason}); ` +
          `write inside the project, or list the folder under allow_write_paths in weir.yml`,
        { stage: stage.name },
      );
    },
    ...(deps.gate ? { gate: { ...deps.gate, now: deps.now, evaluate: (condition: string, flags: Record<string, unknown>) => evaluateCondition(condition, { ...template, flags }) } } : {}),
  };
}

interface AttemptResult {
  result: StageResult;
  checks?: CheckResult[];
  deadLetters?: DeadLetterSummary;
}

/** A template that does not render now will not render on a retry either: permanent, naming the stage. */
function renderOrFail<T>(stage: string, render: () => T): T {
  try {
    return render();
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    throw new PermanentStageError(`stage '${stage}': ${error.message} — not retried`, { stage, cause: error });
  }
}

/** Renders and parses the stage's `with` (once, before its attempts: neither can change on a retry). */
function prepareConfig(stage: PlannedStage, kind: AnyStageKind, deps: InvokeDeps): unknown {
  const rendered = renderOrFail(stage.name, () => renderDeep(stage.spec.with ?? {}, deps.templateContext(stage.name)));
  const parsed = kind.with.safeParse(rendered);
  if (!parsed.success) {
    throw new ConfigError(`stage '${stage.name}' settings are invalid after templating: ${describeZodError(parsed.error)}`);
  }
  return parsed.data;
}

async function runAttempt(a: Attempt): Promise<AttemptResult> {
  const { stage, kind, deps } = a;
  // Only the final attempt's dead letters count: drop what an earlier attempt set aside.
  if (a.number > 1) await clearDeadLetters({ db: deps.db, runDir: deps.runDir, stage: stage.name, signal: a.signal });
  const letters: { record: unknown; reason: string; origin: object }[] = [];
  const ctx = stageContext(a, (record, reason, origin = {}) => letters.push({ record, reason, origin }));
  const result = await untilAborted(kind.run(ctx, a.config), a.signal);
  const table = result.table;
  return settleDeadLetters({ stage: stage.name, kind, policy: a.policy, result, table, letters, checks: stage.spec.checks, db: deps.db, runDir: deps.runDir, signal: a.signal, emit: deps.emit, runId: deps.runId, now: deps.now, redact: deps.redact });
}

/** One attempt under its own timeout, and under the policy's breaker/rate limit for non-HTTP work. */
async function guardedAttempt(a: Attempt, timeoutMs: number | undefined): Promise<AttemptResult> {
  const timeout = new AbortController();
  const correlationId = `${a.deps.runId}/${a.stage.name}`;
  const timer =
    timeoutMs === undefined || timeoutMs <= 0
      ? undefined
      : setTimeout(() => {
          const message = `stage '${a.stage.name}' exceeded its timeout of ${formatDuration(timeoutMs)} and was stopped; raise 'timeout' or make the stage faster`;
          timeout.abort(new StageTimeoutError(message, { stage: a.stage.name, attempt: a.number, correlationId }));
        }, timeoutMs);
  const attempt = { ...a, signal: AbortSignal.any([a.signal, timeout.signal]) };
  try {
    const usesFetch = a.kind.policyPerRequest === true;
    const { breaker, rateLimit } = a.policy;
    const target = { stage: a.stage.name };
    const limited = () =>
      rateLimit && !usesFetch
        ? a.deps.limiters.schedule(dependencyKey(a.policy.name, rateLimit.key, target), rateLimit, () => runAttempt(attempt), attempt.signal).then((r) => r.value)
        : runAttempt(attempt);
    return await (breaker && !usesFetch ? a.deps.breakers.guard(dependencyKey(a.policy.name, breaker.key, target), breaker, limited) : limited());
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function invokeStage(stage: PlannedStage, runSignal: AbortSignal, deps: InvokeDeps): Promise<StageOutcome> {
  const counter = { attempts: 1 };
  let checks: CheckResult[] | undefined;
  try {
    const kind = deps.kinds.get(stage.uses);
    if (!kind) throw new ConfigError(`stage kind '${stage.uses}' is not known`);
    // Checked before the first attempt, outside the retry loop: a missing GPU does not appear by waiting.
    for (const resource of stage.spec.requires ?? []) {
      const report = deps.resource(resource);
      if (!report?.available) {
        throw new ResourceUnavailableError(resourceUnavailableMessage(stage.name, resource, stage.runnerLabels, report), { stage: stage.name, attempt: 1 });
      }
    }
    // Resolved by the planner: the policy, and the attempt's bound (kinds that apply the policy per
    // request, like http, get the policy timeout on each request; only an explicit `timeout:` bounds their attempt).
    const policy = stage.policy;
    const config = prepareConfig(stage, kind, deps);
    const timeoutMs = stage.attemptTimeoutMs;
    const at = () => new Date(deps.now()).toISOString();
    const outcome = await executeWithPolicy(
      (number) => guardedAttempt({ stage, kind, policy, config, number, signal: runSignal, deps, counter }, timeoutMs).catch((error) => {
        if (error && typeof error === 'object' && 'checks' in error) checks = (error as { checks: CheckResult[] }).checks;
        throw error;
      }),
      policy,
      {
        signal: runSignal,
        sleep: deps.sleep,
        random: deps.random,
        isRetriable: kind.isRetriable?.bind(kind),
        onRetry: (_n, error, delayMs) => {
          deps.emit({ type: 'stage.retrying', runId: deps.runId, at: at(), stage: stage.name, attempt: counter.attempts, error: toErrorRecord(error), delayMs });
          counter.attempts++;
        },
      },
    );
    // Gates: `sets:` ride on the stage's commit, so only a run that commits sets them.
    if (stage.spec.sets) {
      const render = (text: string) => renderOrFail(stage.name, () => renderTemplate(text, deps.templateContext(stage.name)));
      const flags = await evaluateSets(stage.spec.sets, { pipeline: deps.pipeline, db: deps.db, render, signal: runSignal });
      outcome.result.commit = { ...outcome.result.commit, flags: [...(outcome.result.commit?.flags ?? []), ...flags] };
    }
    deps.collect(stage.name, outcome.result);
    const { result } = outcome;
    return { ok: true, attempt: counter.attempts, rows: result.rows, table: result.table, outputs: result.outputs, checks: outcome.checks };
  } catch (error) {
    // A cancelled (or timed-out) run is not the stage's failure: report the run's reason, whatever
    // the aborted work threw on its way out (an AbortError, a killed child's exit code).
    return { ok: false, attempt: counter.attempts, error: runSignal.aborted ? runSignal.reason : error, checks };
  }
}
