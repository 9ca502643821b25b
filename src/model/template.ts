/**
 * The template language of pipeline files: `{{ expr }}` inside strings. The syntax lives in
 * template-syntax.ts; this file evaluates it against a run's context. Pure: no I/O, no eval.
 *
 * Roots: params, interval, run, env, pipeline, stage, stages, watermark. `interval.start` / `interval.end` hold ISO
 * instants; they render as `YYYY-MM-DD` when the instant is midnight UTC (daily schedules read
 * naturally) and as the full ISO instant otherwise. `*_iso` always gives the full instant, `*_date`
 * always the UTC date. See docs/pipeline-reference.md.
 */
import {
  collectPaths,
  type ExpressionNode,
  findSpans,
  parseExpression,
  TemplateError,
} from './template-syntax.ts';

export { TemplateError };

export interface TemplateContext {
  params: Record<string, unknown>;
  /** ISO instants; [start, end). */
  interval: { start: string; end: string };
  run: { id: string; date: string; trigger: string };
  env: Readonly<Record<string, string | undefined>>;
  pipeline: { name: string };
  stage?: { name: string };
  /** What upstream stages of this run produced, by stage name. */
  stages?: Readonly<Record<string, StageFacts>>;
  /** Watermarks saved by earlier succeeded runs, by the stage that saved them: `{{ watermark.load }}`. */
  watermark?: Readonly<Record<string, string>>;
  /** Ledger flags, in a gate's condition only (gates issue); an unset flag reads as null. */
  flags?: Readonly<Record<string, unknown>>;
}

/** What a template can read of another stage: `{{ stages.load.rows }}`. */
export interface StageFacts {
  status: string;
  rows?: number;
  table?: string;
  outputs?: Record<string, unknown>;
}

/** Fields of `stages.<name>`. */
export const STAGE_FACTS = ['status', 'rows', 'table', 'outputs'] as const;

/** Fields each root offers; `null` means any name (params and env are open-ended). */
export const TEMPLATE_ROOTS: Readonly<Record<string, readonly string[] | null>> = {
  params: null,
  env: null,
  interval: ['start', 'end', 'start_iso', 'end_iso', 'start_date', 'end_date'],
  run: ['id', 'date', 'trigger'],
  pipeline: ['name'],
  stage: ['name'],
  stages: null,
  watermark: null,
};

/** Why `path` cannot be read from any context, or undefined when it is well-formed. */
export function describeBadPath(path: readonly string[]): string | undefined {
  const [root, field, ...rest] = path;
  if (!Object.hasOwn(TEMPLATE_ROOTS, root)) {
    return `unknown name '${root}': templates can use ${Object.keys(TEMPLATE_ROOTS).join(', ')}`;
  }
  if (field === undefined) return `'${root}' needs a field, e.g. ${root}.${TEMPLATE_ROOTS[root]?.[0] ?? (root === 'watermark' ? '<stage>' : 'name')}`;
  if (root === 'stages') {
    const [fact] = rest;
    if (fact === undefined || !(STAGE_FACTS as readonly string[]).includes(fact)) {
      return `'stages.${field}' needs one of ${STAGE_FACTS.map((f) => `stages.${field}.${f}`).join(', ')}`;
    }
    return rest.length > 1 && fact !== 'outputs' ? `'stages.${field}.${fact}' is a single value and has no field '${rest[1]}'` : undefined;
  }
  const fields = TEMPLATE_ROOTS[root];
  if (fields && !fields.includes(field)) return `'${root}' has no field '${field}': use ${fields.map((f) => `${root}.${f}`).join(', ')}`;
  if (rest.length > 0) return `'${root}.${field}' is a single value and has no field '${rest[0]}'`;
  return undefined;
}

/** Why a `flags.…` path (gate conditions only) is malformed, or undefined when it is `flags.<name>`. */
export function describeFlagPath(path: readonly string[]): string | undefined {
  if (path.length === 1) return "'flags' needs a flag name, e.g. flags.ready";
  if (path.length > 2) return `'flags.${path[1]}' is a single value and has no field '${path[2]}'`;
  return undefined;
}

/** A value that could not be found; only the `default` filter may consume it. */
class Missing {
  readonly reason: string;
  readonly offset: number;
  constructor(reason: string, offset: number) {
    this.reason = reason;
    this.offset = offset;
  }
}

export interface TemplateExpression {
  /** The whole `{{ … }}` text. */
  source: string;
  /** Offset of `{{` in the template. */
  offset: number;
  /** Dotted paths the expression reads. */
  paths: string[][];
  /** Syntax error, if any. */
  error?: string;
  /** Offset in the template of the token the syntax error is about. */
  errorOffset?: number;
}

/** Every `{{ … }}` of `template` with the paths it reads, or its syntax error; never throws. */
export function findTemplateExpressions(template: string): TemplateExpression[] {
  let spans;
  try {
    spans = findSpans(template);
  } catch (error) {
    const offset = (error as TemplateError).offset;
    return [{ source: template.slice(offset), offset, paths: [], error: (error as Error).message, errorOffset: offset }];
  }
  return spans.map((span) => {
    const source = template.slice(span.start, span.end);
    try {
      return { source, offset: span.start, paths: collectPaths(parseExpression(span.inner, span.innerOffset)) };
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return { source, offset: span.start, paths: [], error: error.message, errorOffset: error.offset };
    }
  });
}

/** Like findTemplateExpressions for an `if:` value; offsets are into `condition` as written. */
export function findConditionExpressions(condition: string): TemplateExpression[] {
  if (condition.includes('{{')) return findTemplateExpressions(condition);
  const shift = CONDITION_PREFIX.length;
  return findTemplateExpressions(asConditionTemplate(condition)).map((found) => ({
    ...found,
    source: condition,
    offset: 0,
    errorOffset: found.errorOffset === undefined ? undefined : Math.max(0, Math.min(condition.length, found.errorOffset - shift)),
  }));
}

const CONDITION_PREFIX = '{{ ';
function asConditionTemplate(condition: string): string {
  return `${CONDITION_PREFIX}${condition} }}`;
}

/** Renders every `{{ … }}` of `template`; throws TemplateError naming the expression and the fix. */
export function renderTemplate(template: string, context: TemplateContext): string {
  const spans = findSpans(template);
  if (spans.length === 0) return template;
  let out = '';
  let last = 0;
  for (const span of spans) {
    const source = template.slice(span.start, span.end);
    try {
      const value = evaluate(parseExpression(span.inner, span.innerOffset), context);
      out += template.slice(last, span.start) + formatValue(present(value, span.innerOffset));
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      throw new TemplateError(`${source}: ${error.message}`, error.offset, { cause: error });
    }
    last = span.end;
  }
  return out + template.slice(last);
}

const FALSE_WORDS = new Set(['', 'false', '0', 'no', 'off', 'null']);

/**
 * Evaluates an `if:` condition. A string without `{{` is one whole expression
 * (`params.full == true`); the rendered text "", false, 0, no, off and null mean false. An unset
 * `env.X` is '' here (not an error as in `with`).
 */
export function evaluateCondition(template: string, context: TemplateContext): boolean {
  const text = template.includes('{{') ? template : asConditionTemplate(template);
  // `if: env.DEPLOY == 'true'` asks whether a variable is set: unset reads as '' (false) here,
  // where a value that goes out (a header, a path) must be set or have a default.
  const env = new Proxy(context.env, { get: (target, name) => (typeof name === 'string' ? (target[name] ?? '') : undefined) });
  return !FALSE_WORDS.has(renderTemplate(text, { ...context, env }).trim().toLowerCase());
}

/**
 * Renders every string inside nested objects and arrays; other values are kept as they are. A
 * TemplateError names the field it came from (`with.headers.Authorization: …`); `path` is where
 * `value` sits (default: `with`).
 */
export function renderDeep<T>(value: T, context: TemplateContext, path: readonly (string | number)[] = ['with']): T {
  if (typeof value === 'string') {
    try {
      return renderTemplate(value, context) as T;
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      throw new TemplateError(`${path.join('.')}: ${error.message}`, error.offset, { cause: error });
    }
  }
  if (Array.isArray(value)) return value.map((item, index) => renderDeep(item, context, [...path, index])) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderDeep(item, context, [...path, key])])) as T;
  }
  return value;
}

function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function present(value: unknown, offset: number): unknown {
  if (value instanceof Missing) throw new TemplateError(value.reason, value.offset);
  return value;
}

function evaluate(node: ExpressionNode, context: TemplateContext): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'path':
      return resolvePath(node.segments, node.offset, context);
    case 'not':
      return !isTruthy(present(evaluate(node.operand, context), node.offset));
    case 'binary':
      return evaluateBinary(node, context);
    case 'filter':
      return applyFilter(node, context);
  }
}

function evaluateBinary(node: Extract<ExpressionNode, { kind: 'binary' }>, context: TemplateContext): unknown {
  const left = present(evaluate(node.left, context), node.left.offset);
  if (node.op === '&&') return isTruthy(left) ? present(evaluate(node.right, context), node.right.offset) : left;
  if (node.op === '||') return isTruthy(left) ? left : present(evaluate(node.right, context), node.right.offset);
  const right = present(evaluate(node.right, context), node.right.offset);
  switch (node.op) {
    case '==':
      return looseEquals(left, right);
    case '!=':
      return !looseEquals(left, right);
    default:
      return compareOrdered(node.op, left, right);
  }
}

function isTruthy(value: unknown): boolean {
  if (typeof value === 'string') return !FALSE_WORDS.has(value.trim().toLowerCase());
  return Boolean(value);
}

// Params arrive from the CLI and workflow inputs as strings: 'true' == true and '3' == 3 must hold.
function looseEquals(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (left === null || right === null || left === undefined || right === undefined) return false;
  if (typeof left === 'object' || typeof right === 'object') return JSON.stringify(left) === JSON.stringify(right);
  return String(left) === String(right);
}

function compareOrdered(op: '<' | '<=' | '>' | '>=', left: unknown, right: unknown): boolean {
  const bothNumeric = left !== '' && right !== '' && !Number.isNaN(Number(left)) && !Number.isNaN(Number(right));
  const a = bothNumeric ? Number(left) : String(left);
  const b = bothNumeric ? Number(right) : String(right);
  if (op === '<') return a < b;
  if (op === '<=') return a <= b;
  if (op === '>') return a > b;
  return a >= b;
}

function applyFilter(node: Extract<ExpressionNode, { kind: 'filter' }>, context: TemplateContext): unknown {
  const input = evaluate(node.input, context);
  if (node.name === 'default') {
    const empty = input instanceof Missing || input === undefined || input === null || input === '';
    return empty ? present(evaluate(node.args[0], context), node.args[0].offset) : input;
  }
  const value = present(input, node.input.offset);
  switch (node.name) {
    case 'upper':
      return formatValue(value).toUpperCase();
    case 'lower':
      return formatValue(value).toLowerCase();
    case 'json':
      return JSON.stringify(value ?? null);
    case 'sql':
      return value === null || value === undefined ? 'NULL' : `'${formatValue(value).replaceAll("'", "''")}'`;
    case 'date':
      return toDate(value, node.input.offset);
  }
}

function toDate(value: unknown, offset: number): string {
  const date = new Date(String(value));
  if (value === null || value === undefined || Number.isNaN(date.getTime())) {
    throw new TemplateError(`filter 'date' needs an ISO date or instant, got '${formatValue(value)}'`, offset);
  }
  return date.toISOString().slice(0, 10);
}

function resolvePath(segments: readonly string[], offset: number, context: TemplateContext): unknown {
  // Gates: `flags` is a root only in a gate's condition (not a TEMPLATE_ROOT: `if:` and `with` cannot
  // read it); an unset flag is null, so a condition on it is false rather than an error.
  if (segments[0] === 'flags' && context.flags) {
    const problem = describeFlagPath(segments);
    if (problem) throw new TemplateError(problem, offset);
    return context.flags[segments[1]] ?? null;
  }
  const problem = describeBadPath(segments);
  if (problem) throw new TemplateError(problem, offset);
  const [root, field] = segments;
  switch (root) {
    case 'params':
      return Object.hasOwn(context.params, field) && context.params[field] !== undefined
        ? context.params[field]
        : new Missing(`parameter '${field}' has no value: declare it under params: with a default, pass --param ${field}=…, or write params.${field} | default('…')`, offset);
    case 'env':
      // Unset is an error, not '': a request must not go out with `Authorization: Bearer `.
      return context.env[field] ?? new Missing(`environment variable '${field}' is not set: set it, or write env.${field} | default('…')`, offset);
    case 'interval':
      return formatIntervalField(field, context.interval);
    case 'stage':
      return context.stage ? context.stage.name : new Missing("'stage.name' is only available inside a stage", offset);
    case 'stages':
      return readStageFact(segments, offset, context);
    case 'watermark':
      return context.watermark?.[field] ?? new Missing(`stage '${field}' has saved no watermark yet (no succeeded run has saved one): write watermark.${field} | default('1970-01-01') for the first run`, offset);
    default:
      return (context[root as 'run' | 'pipeline'] as Record<string, unknown>)[field];
  }
}

function readStageFact(segments: readonly string[], offset: number, context: TemplateContext): unknown {
  const [, name, fact, ...rest] = segments;
  const facts = context.stages?.[name];
  if (!facts) return new Missing(`stage '${name}' has not run in this run (yet): make this stage need it, or write stages.${name}.${fact} | default(…)`, offset);
  let value: unknown = facts[fact as keyof StageFacts];
  for (const key of rest) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value === undefined ? new Missing(`stage '${name}' has no ${[fact, ...rest].join('.')} (its status is ${facts.status}): write stages.${name}.${[fact, ...rest].join('.')} | default(…)`, offset) : value;
}

function formatIntervalField(field: string, interval: TemplateContext['interval']): string {
  const instant = field.startsWith('start') ? interval.start : interval.end;
  const date = new Date(instant);
  if (Number.isNaN(date.getTime())) return instant;
  const iso = date.toISOString();
  if (field.endsWith('_iso')) return iso;
  if (field.endsWith('_date')) return iso.slice(0, 10);
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}
