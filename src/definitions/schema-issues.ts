/**
 * Turns zod issues into diagnostics a person can act on: positioned at the offending value or key,
 * in words ("expected a list, got the string 'x'"), with did-you-mean for unknown fields and values.
 */
import type { z } from 'zod';
import { SPEC_VERSION } from '../model/pipeline.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { describeValue, formatPath, report, type RuleContext } from './rule-context.ts';
import type { YamlPath } from './yaml-positions.ts';

type Issue = z.core.$ZodIssue;
type AnySchema = z.core.$ZodType;

export interface IssueOptions {
  /** Where the validated value sits in the file, e.g. ['stages','load','with']. */
  base: YamlPath;
  /** The schema that produced the issues: allowed keys for did-you-mean come from it. */
  schema: AnySchema;
  /** Code for every issue (stage `with` blocks use WEIR302, policies WEIR601); default WEIR101 / WEIR102. */
  code?: string;
  /** How messages name the document itself (default: "the pipeline"), e.g. weir.yml. */
  rootName?: string;
}

/** A schema problem in words, at a YAML path; `key` points at the key rather than its value. */
export interface SchemaIssue {
  code: string;
  path: YamlPath;
  message: string;
  key?: boolean;
}

/**
 * Shapes of fields whose schema is a union or a pattern, in words: zod can only say which branch
 * failed, not what the user should write.
 */
const FIELD_SHAPES: Readonly<Record<string, string>> = {
  timeout: 'a duration such as 30s or 10m',
  sla: 'a duration such as 30s or 10m',
  initial_delay: 'a duration such as 500ms, 1s or 2m',
  max_delay: 'a duration such as 30s or 2m',
  window: 'a duration such as 60s',
  half_open_after: 'a duration such as 60s',
  breaker: 'false or a mapping with failures, window, half_open_after, key',
  rate_limit: 'false or a mapping with per_second, max_concurrent, key',
  http_status: "'any' or a list of HTTP statuses",
  exit_codes: "'any' or a list of exit codes",
};

/** An example for a required field, when its shape is not obvious. */
const MISSING_EXAMPLES: Readonly<Record<string, string>> = { cron: 'cron: "17 6 * * *"', uses: 'uses: sql', to: 'to: [team-email]' };

/** Reports every issue in `ctx`'s file. */
export function reportIssues(ctx: RuleContext, issues: readonly Issue[], options: IssueOptions): void {
  for (const issue of describeIssues(issues, options)) report(ctx, issue.code, issue.path, issue.message, { key: issue.key === true });
}

/** Zod issues as weir's messages: the one translator for pipelines, stage kinds, weir.yml and policies. */
export function describeIssues(issues: readonly Issue[], options: IssueOptions): SchemaIssue[] {
  return issues.flatMap((issue) => describeOne(issue, options));
}

function describeOne(issue: Issue, options: IssueOptions): SchemaIssue[] {
  const path: YamlPath = [...options.base, ...(issue.path as (string | number)[])];
  const where = path.length === 0 && options.rootName ? options.rootName : formatPath(path);
  const code = (fallback: string): string => options.code ?? fallback;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(options.schema, issue.path as (string | number)[]);
      return issue.keys.map((key) => {
        const hint = didYouMean(key, allowed) || (allowed.length > 0 ? `; allowed fields: ${allowed.join(', ')}` : '');
        return { code: code('WEIR102'), path: [...path, key], key: true, message: `unknown field '${key}' in ${where}${hint}` };
      });
    }
    case 'invalid_key': {
      const reason = issue.issues.map((inner) => inner.message).join('; ');
      return [{ code: code('WEIR101'), path, key: true, message: `'${String(path[path.length - 1])}' is not a valid name in ${formatPath(path.slice(0, -1))}: ${reason}` }];
    }
    case 'invalid_union':
      return describeUnion(issue, options, path);
    default:
      return [{ code: code('WEIR101'), path, message: describeIssue(issue, path, where) }];
  }
}

function describeIssue(issue: Issue, path: YamlPath, where: string): string {
  const input = (issue as { input?: unknown }).input;
  const got = input === undefined ? '' : `, got ${describeValue(input)}`;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) {
        const field = String(path[path.length - 1]);
        return `missing required field '${field}' in ${formatPath(path.slice(0, -1))}: add it${MISSING_EXAMPLES[field] ? ` (e.g. ${MISSING_EXAMPLES[field]})` : ''}`;
      }
      return `${where} must be ${describeExpected(issue.expected)}${got}`;
    case 'invalid_value': {
      if (path.length === 1 && path[0] === 'version') {
        return `this weir reads pipeline version ${SPEC_VERSION}, not ${String(input)}: set version: ${SPEC_VERSION} (or remove it)`;
      }
      const values = issue.values.map((value) => String(value));
      const hint = typeof input === 'string' ? didYouMean(input, values) : '';
      return `${where} must be one of ${values.join(', ')}${got}${hint}`;
    }
    case 'invalid_format': {
      const shape = FIELD_SHAPES[String(path[path.length - 1])];
      if (shape) return `${where} must be ${shape}${got}`;
      return `${where}: ${describeValue(input)} is not valid: ${issue.message}`;
    }
    case 'too_small':
      return `${where} ${describeLimit(issue.inclusive === false ? 'greater than' : 'at least', issue.minimum, issue.origin)}${typeof input === 'number' ? got : ''}${customReason(issue.message)}`;
    case 'too_big':
      return `${where} ${describeLimit(issue.inclusive === false ? 'less than' : 'at most', issue.maximum, issue.origin)}${typeof input === 'number' ? got : ''}${customReason(issue.message)}`;
    default:
      // Custom rules word their message as a predicate ("must be …") or as a sentence of their own.
      return /^must\b/.test(issue.message) ? `${where} ${issue.message}` : `${where}: ${issue.message}`;
  }
}

/** A bound's own reason, when the schema gives one (`.max(256, 'GitHub runs …')`), after a colon; zod's default wording adds nothing. */
function customReason(message: string): string {
  return /^Too (big|small)\b/.test(message) ? '' : `: ${message}`;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'array':
      return 'a list';
    case 'object':
    case 'record':
      return 'a mapping';
    case 'boolean':
      return 'true or false';
    default:
      return `a ${expected}`;
  }
}

function describeLimit(bound: string, limit: unknown, origin: string): string {
  if (origin === 'array' || origin === 'set') return `must have ${bound} ${String(limit)} item${Number(limit) === 1 ? '' : 's'}`;
  if (origin === 'string') return Number(limit) === 1 && bound === 'at least' ? 'must not be empty' : `must have ${bound} ${String(limit)} characters`;
  return `must be ${bound} ${String(limit)}`;
}

/**
 * A union failed. When exactly one branch fits the value's type (a mapping for `false | {…}`), or
 * one branch fits clearly better (fewest issues), its issues are the useful ones; otherwise say
 * which shapes are accepted, with did-you-mean for a misspelt key.
 */
function describeUnion(issue: Extract<Issue, { code: 'invalid_union' }>, options: IssueOptions, path: YamlPath): SchemaIssue[] {
  const code = options.code ?? 'WEIR101';
  const branches = issue.errors;
  const discriminator = issue as { options?: unknown[]; discriminator?: string; input?: unknown };
  const input = (issue as { input?: unknown }).input;
  if (branches.length === 0 && discriminator.options) {
    // A discriminated union whose tag matched no branch: zod reports the allowed tags, not branches.
    const allowed = discriminator.options.map(String);
    const got = input !== null && typeof input === 'object' && discriminator.discriminator ? (input as Record<string, unknown>)[discriminator.discriminator] : input;
    const hint = typeof got === 'string' ? didYouMean(got, allowed) : '';
    return [{ code, path, message: `${formatPath(path)} must be one of ${allowed.join(', ')}, got ${describeValue(got)}${hint}` }];
  }
  const nested = { ...options, base: path, schema: schemaAt(options.schema, issue.path as (string | number)[]) ?? options.schema };
  const fitting = branches.filter((branch) => !branch.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value')));
  const isObject = input !== null && typeof input === 'object' && !Array.isArray(input);
  if (fitting.length === 1 && fitting[0].length > 0 && !fitting[0].some((i) => i.path.length === 0 && i.code === 'invalid_format')) {
    return describeIssues(fitting[0], nested);
  }
  const shape = FIELD_SHAPES[String(path[path.length - 1])];
  if (shape && !isObject) return [{ code, path, message: `${formatPath(path)} must be ${shape}, got ${describeValue(input)}` }];
  const counts = branches.map((branch) => branch.length);
  const best = Math.min(...counts);
  if (counts.filter((count) => count === best).length === 1 && isObject) return describeIssues(branches[counts.indexOf(best)], nested);
  const expected = [...new Set(branches.flatMap((branch) => branch.filter((i) => i.path.length === 0 && i.code === 'invalid_type').map((i) => describeExpected((i as { expected: string }).expected))))];
  const failsAtRoot = branches.every((branch) => branch.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_format')));
  if (!isObject || (expected.length > 0 && failsAtRoot)) {
    const format = branches.flatMap((branch) => branch.filter((i) => i.path.length === 0 && i.code === 'invalid_format').map((i) => i.message));
    const expectedText = [...expected, ...format].join(' or ') || 'another value';
    return [{ code, path, message: `${formatPath(path)} must be ${expectedText}, got ${describeValue(input)}` }];
  }
  const required = [...new Set(branches.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type' && i.path.length === 1).map((i) => String(i.path[0]))))];
  const unknown = Object.keys(input as object).filter((key) => !required.includes(key) && branches.every((b) => b.some((i) => i.code === 'unrecognized_keys' && i.keys.includes(key))));
  const hint = unknown.length > 0 ? `unknown field '${unknown[0]}'${didYouMean(unknown[0], required)}; ` : '';
  return [{ code, path: unknown.length > 0 ? [...path, unknown[0]] : path, ...(unknown.length > 0 ? { key: true } : {}), message: `${formatPath(path)}: ${hint}expected exactly one of ${required.join(', ')}` }];
}

/** Keys an object schema at `path` accepts (all branches of a union), for did-you-mean. */
function allowedKeys(schema: AnySchema, path: readonly (string | number)[]): string[] {
  const target = schemaAt(schema, path);
  return target ? objectKeys(target) : [];
}

function objectKeys(schema: AnySchema): string[] {
  const def = unwrap(schema)._zod.def as { type: string; shape?: Record<string, unknown>; options?: AnySchema[] };
  if (def.type === 'object' && def.shape) return Object.keys(def.shape);
  if (def.type === 'union' && def.options) return [...new Set(def.options.flatMap(objectKeys))];
  return [];
}

/** The sub-schema validating the value at `path`, following objects, records, arrays and wrappers. */
export function schemaAt(schema: AnySchema, path: readonly (string | number)[]): AnySchema | undefined {
  let current: AnySchema | undefined = schema;
  for (const step of path) {
    if (!current) return undefined;
    const def = unwrap(current)._zod.def as { type: string; shape?: Record<string, AnySchema>; valueType?: AnySchema; element?: AnySchema };
    if (def.type === 'object') current = def.shape?.[String(step)];
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'array') current = def.element;
    else return undefined;
  }
  return current;
}

function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const def = current._zod.def as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType && ['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch'].includes(def.type)) current = def.innerType;
    else if (def.type === 'pipe' && def.in) current = def.in;
    else return current;
  }
}
