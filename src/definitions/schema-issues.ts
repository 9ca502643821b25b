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
  /** Code for every issue (stage `with` blocks use WEIR302); default WEIR101 / WEIR102. */
  code?: string;
}

export function reportIssues(ctx: RuleContext, issues: readonly Issue[], options: IssueOptions): void {
  for (const issue of issues) reportIssue(ctx, issue, options);
}

function reportIssue(ctx: RuleContext, issue: Issue, options: IssueOptions): void {
  const path: YamlPath = [...options.base, ...(issue.path as (string | number)[])];
  const where = formatPath(path);
  const code = (fallback: string): string => options.code ?? fallback;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeys(options.schema, issue.path as (string | number)[]);
      for (const key of issue.keys) {
        const hint = didYouMean(key, allowed) || (allowed.length > 0 ? `; allowed fields: ${allowed.join(', ')}` : '');
        report(ctx, code('WEIR102'), [...path, key], `unknown field '${key}' in ${where}${hint}`, { key: true });
      }
      return;
    }
    case 'invalid_key': {
      const reason = issue.issues.map((inner) => inner.message).join('; ');
      report(ctx, code('WEIR101'), path, `'${String(path[path.length - 1])}' is not a valid name in ${formatPath(path.slice(0, -1))}: ${reason}`, { key: true });
      return;
    }
    case 'invalid_union':
      reportUnion(ctx, issue, options, path);
      return;
    default:
      report(ctx, code('WEIR101'), path, describeIssue(issue, path));
  }
}

function describeIssue(issue: Issue, path: YamlPath): string {
  const where = formatPath(path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return `missing required field '${String(path[path.length - 1])}' in ${formatPath(path.slice(0, -1))}: add it`;
      return `${where} must be ${describeExpected(issue.expected)}, got ${describeValue(input)}`;
    case 'invalid_value': {
      if (path.length === 1 && path[0] === 'version') {
        return `this weir reads pipeline version ${SPEC_VERSION}, not ${String(input)}: set version: ${SPEC_VERSION} (or remove it)`;
      }
      const values = issue.values.map((value) => String(value));
      const hint = typeof input === 'string' ? didYouMean(input, values) : '';
      return `${where} must be one of ${values.join(', ')}, got ${describeValue(input)}${hint}`;
    }
    case 'invalid_format':
      return `${where}: ${describeValue(input)} is not valid: ${issue.message}`;
    case 'too_small':
      return `${where} ${describeLimit('at least', issue.minimum, issue.origin)}`;
    case 'too_big':
      return `${where} ${describeLimit('at most', issue.maximum, issue.origin)}`;
    default:
      return `${where}: ${issue.message}`;
  }
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
 * A union failed. When one branch fits clearly better (fewest issues), its issues are the useful
 * ones; otherwise say which shapes are accepted, with did-you-mean for a misspelt key.
 */
function reportUnion(ctx: RuleContext, issue: Extract<Issue, { code: 'invalid_union' }>, options: IssueOptions, path: YamlPath): void {
  const branches = issue.errors;
  const discriminator = issue as { options?: unknown[]; discriminator?: string; input?: unknown };
  if (branches.length === 0 && discriminator.options) {
    // A discriminated union whose tag matched no branch: zod reports the allowed tags, not branches.
    const allowed = discriminator.options.map(String);
    const input = discriminator.input;
    const got = input !== null && typeof input === 'object' && discriminator.discriminator ? (input as Record<string, unknown>)[discriminator.discriminator] : input;
    const hint = typeof got === 'string' ? didYouMean(got, allowed) : '';
    report(ctx, options.code ?? 'WEIR101', path, `${formatPath(path)} must be one of ${allowed.join(', ')}, got ${describeValue(got)}${hint}`);
    return;
  }
  const counts = branches.map((branch) => branch.length);
  const best = Math.min(...counts);
  const input = (issue as { input?: unknown }).input;
  const bestBranch = branches[counts.indexOf(best)];
  const isObject = input !== null && typeof input === 'object' && !Array.isArray(input);
  if (counts.filter((count) => count === best).length === 1 && isObject) {
    reportIssues(ctx, bestBranch, { ...options, base: path, schema: schemaAt(options.schema, issue.path as (string | number)[]) ?? options.schema });
    return;
  }
  const code = options.code ?? 'WEIR101';
  const expected = [...new Set(branches.flatMap((branch) => branch.filter((i) => i.path.length === 0 && i.code === 'invalid_type').map((i) => describeExpected((i as { expected: string }).expected))))];
  const failsAtRoot = branches.every((branch) => branch.some((i) => i.path.length === 0 && i.code === 'invalid_type'));
  if (!isObject || (expected.length > 0 && failsAtRoot)) {
    report(ctx, code, path, `${formatPath(path)} must be ${expected.join(' or ') || 'another value'}, got ${describeValue(input)}`);
    return;
  }
  const required = [...new Set(branches.flatMap((branch) => branch.filter((i) => i.code === 'invalid_type' && i.path.length === 1).map((i) => String(i.path[0]))))];
  const unknown = Object.keys(input as object).filter((key) => !required.includes(key) && branches.every((b) => b.some((i) => i.code === 'unrecognized_keys' && i.keys.includes(key))));
  const hint = unknown.length > 0 ? `unknown field '${unknown[0]}'${didYouMean(unknown[0], required)}; ` : '';
  report(ctx, code, unknown.length > 0 ? [...path, unknown[0]] : path, `${formatPath(path)}: ${hint}expected exactly one of ${required.join(', ')}`, { key: unknown.length > 0 });
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
