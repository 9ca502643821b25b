/** What every validation rule gets: the positioned source and a way to report a diagnostic. */
import type { Diagnostic } from '../model/diagnostic.ts';
import type { SourceRange, YamlPath, YamlSource } from './yaml-positions.ts';

export interface RuleContext {
  source: YamlSource;
  file: string;
  diagnostics: Diagnostic[];
}

export interface ReportOptions {
  severity?: Diagnostic['severity'];
  /** Point at the key at the end of the path instead of its value (unknown or misplaced fields). */
  key?: boolean;
  /** An exact range (e.g. inside a string); overrides the path. */
  range?: SourceRange;
}

export function report(ctx: RuleContext, code: string, path: YamlPath, message: string, options: ReportOptions = {}): void {
  const range = options.range ?? (options.key ? ctx.source.locateKey(path) : ctx.source.locate(path));
  ctx.diagnostics.push({ code, severity: options.severity ?? 'error', file: ctx.file, ...range, message });
}

/** `stages.load.needs[0]`: how messages name a place in the file. */
export function formatPath(path: YamlPath): string {
  let text = '';
  for (const step of path) {
    if (typeof step === 'number') text += `[${step}]`;
    else text += text === '' ? step : `.${step}`;
  }
  return text === '' ? 'the pipeline' : text;
}

/** The value as a plain mapping, or undefined: rules read the raw document defensively. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** How messages name the type of a value the user wrote. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string '${value}'`;
  if (typeof value === 'boolean') return String(value);
  return `the ${typeof value} ${String(value)}`;
}
