/**
 * Secret redaction: every known secret value is replaced by `***` in error messages, events, run
 * records and log lines before they are written anywhere (events.jsonl, the ledger, stdout,
 * reports). The known secrets of a run are the values of the environment variables its templates
 * read, the values of its secret-looking (or `secret_headers`) HTTP headers and its params declared
 * `secret: true` — see collectSecrets. Pure: no I/O.
 */
import type { RunEvent } from './events.ts';
import type { PipelineSpec } from './pipeline.ts';
import { findTemplateExpressions, renderTemplate, type TemplateContext } from './template.ts';

/** What a secret is replaced with. */
export const REDACTED = '***';
/**
 * Values shorter than this are not redacted: replacing every `1`, `yes` or `dev` in every message
 * would destroy the messages and hide nothing a guess would not find.
 */
export const MIN_SECRET_CHARS = 4;
/** Header names whose values are secrets without being listed in `secret_headers`. */
export const SECRET_HEADER = /auth|token|key|secret|cookie|session|pass|signature|credential/i;

/** Replaces every known secret in `text` with `***`. */
export type Redactor = (text: string) => string;

/** A redactor that changes nothing: for runs without secrets. */
export const NO_REDACTION: Redactor = (text) => text;

/**
 * A redactor for `values`: longest first (a secret that contains another is hidden whole), values
 * shorter than MIN_SECRET_CHARS ignored, each also in its URL-encoded form (as it appears in URLs).
 */
export function createRedactor(values: Iterable<string | undefined | null>): Redactor {
  const secrets = new Set<string>();
  for (const value of values) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_CHARS) continue;
    secrets.add(value);
    secrets.add(encodeURIComponent(value));
    const trimmed = value.trim();
    if (trimmed.length >= MIN_SECRET_CHARS) secrets.add(trimmed);
  }
  if (secrets.size === 0) return NO_REDACTION;
  // One alternation, longest first: at each position the regex engine takes the first (longest) match.
  const pattern = new RegExp([...secrets].sort((a, b) => b.length - a.length).map(escapeRegExp).join('|'), 'g');
  return (text) => text.replace(pattern, REDACTED);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `value` with every string inside (nested objects and arrays too) redacted; other values kept. */
export function redactValue<T>(value: T, redact: Redactor): T {
  if (redact === NO_REDACTION) return value;
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((item) => redactValue(item, redact)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactValue(item, redact)])) as T;
  }
  return value;
}

/** Fields that identify an event rather than describe it: never rewritten, so the fold still works. */
const EVENT_IDENTITY = new Set(['type', 'runId', 'at', 'stage', 'attempt', 'stages', 'pipeline']);

/**
 * The event with every secret replaced by `***` (messages, log lines, params, outputs, error
 * records). Call it on each event before anything sees it: the run's `emit` must redact first,
 * then fold into the record, append to events.jsonl and call the listeners (CLI output, reports).
 */
export function redactEvent<E extends RunEvent>(event: E, redact: Redactor): E {
  if (redact === NO_REDACTION) return event;
  const entries = Object.entries(event).map(([key, value]) => [key, EVENT_IDENTITY.has(key) ? value : redactValue(value, redact)]);
  return Object.fromEntries(entries) as E;
}

/** What collectSecrets reads of a run. */
export interface SecretSources {
  spec: PipelineSpec;
  env: Readonly<Record<string, string | undefined>>;
  /** The run's resolved params. */
  params: Readonly<Record<string, unknown>>;
  /** Renders secret header templates (run-level context); a template that fails is skipped. */
  context?: TemplateContext;
}

/**
 * The secret values of a run: env values its templates read (anywhere in the pipeline), params
 * declared `secret: true`, and the values of HTTP headers whose name looks secret (SECRET_HEADER)
 * or is listed in the stage's `with.secret_headers`, rendered when a context is given.
 */
export function collectSecrets(sources: SecretSources): string[] {
  const { spec, env, params } = sources;
  const found: string[] = [];
  for (const template of stringsIn(spec)) {
    for (const expression of findTemplateExpressions(template)) {
      for (const [root, name] of expression.paths) if (root === 'env' && name !== undefined && env[name] !== undefined) found.push(env[name]);
    }
  }
  for (const [name, param] of Object.entries(spec.params ?? {})) {
    if ((param as { secret?: boolean }).secret === true && params[name] !== undefined) found.push(String(params[name]));
  }
  for (const stage of Object.values(spec.stages ?? {})) found.push(...secretHeaderValues(stage.with, sources.context));
  return found;
}

function secretHeaderValues(config: Record<string, unknown> | undefined, context: TemplateContext | undefined): string[] {
  const headers = config?.headers;
  if (headers === null || typeof headers !== 'object') return [];
  const listed = new Set((Array.isArray(config?.secret_headers) ? config.secret_headers : []).map((h) => String(h).toLowerCase()));
  const values: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string' || !(SECRET_HEADER.test(name) || listed.has(name.toLowerCase()))) continue;
    const rendered = !value.includes('{{') ? value : context ? tryRender(value, context) : undefined;
    if (rendered === undefined) continue;
    values.push(rendered);
    // `Bearer xyz`: the credential alone may show up without its scheme.
    const credential = / (\S+)$/.exec(rendered)?.[1];
    if (credential) values.push(credential);
  }
  return values;
}

function tryRender(template: string, context: TemplateContext): string | undefined {
  try {
    return renderTemplate(template, context);
  } catch {
    // Unset or stage-dependent: the stage reports it; env values inside are collected anyway.
    return undefined;
  }
}

/** Every string in a parsed YAML value. */
function* stringsIn(value: unknown): Generator<string> {
  if (typeof value === 'string') yield value;
  else if (Array.isArray(value)) for (const item of value) yield* stringsIn(item);
  else if (value !== null && typeof value === 'object') for (const item of Object.values(value)) yield* stringsIn(item);
}
