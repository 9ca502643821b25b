/**
 * Rules about params and templates: every `{{ … }}` in the stages parses and reads known names,
 * every param it reads is declared, declarations are coherent, declared params are used. The YAML
 * tree of the stages is walked once; strings without `{{` cost one indexOf.
 */
import { describeBadPath, findConditionExpressions, findTemplateExpressions, TEMPLATE_ROOTS, type TemplateExpression } from '../model/template.ts';
import { upstreamOf } from '../planner/graph.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { asRecord, describeValue, report, type RuleContext } from './rule-context.ts';
import { locateInScalar, type SourceRange, type YamlPath } from './yaml-positions.ts';

/** Text of a file a stage refers to (a SQL file), and where the reference sits. */
export interface ReferencedTemplate {
  text: string;
  path: string;
  stage: string;
  at: YamlPath;
}

/** Checks templates in the stages and the params block; `extraTemplates` are referenced files. */
export function checkParamsAndTemplates(ctx: RuleContext, params: Record<string, unknown>, extraTemplates: readonly ReferencedTemplate[]): void {
  const declared = new Set(Object.keys(params));
  const used = new Set<string>();
  const graph = new StageGraph(asRecord(asRecord(ctx.source.value)?.stages) ?? {});
  for (const { text, path, condition, stage } of templateStrings(asRecord(asRecord(ctx.source.value)?.stages))) {
    const expressions = condition ? findConditionExpressions(text) : findTemplateExpressions(text);
    for (const expression of expressions) checkExpression(ctx, path, expression, declared, used, { stage, graph });
  }
  for (const file of extraTemplates) {
    for (const expression of findTemplateExpressions(file.text)) {
      for (const path of expression.paths) {
        if (path[0] === 'params' && path[1]) used.add(path[1]);
        // Reported at the reference: positions inside another file have no place in this file's diagnostics.
        if (path[0] === 'watermark' && path[1]) checkWatermarkReference(ctx, `template ${expression.source} in ${file.path}`, path[1], { graph }, () => ctx.source.locate(file.at));
      }
    }
  }
  for (const [name, raw] of Object.entries(params)) {
    const param = asRecord(raw);
    if (param) checkDeclaration(ctx, name, param);
    if (!used.has(name)) {
      report(ctx, 'WEIR505', ['params', name], `param '${name}' is declared but never used: remove it, or use it as {{ params.${name} }}`, { key: true, severity: 'warning' });
    }
  }
}

/** Stage names and their transitive needs, computed only for stages whose templates read `stages.*`. */
class StageGraph {
  readonly #needs: Map<string, string[]>;
  readonly #upstream = new Map<string, Set<string>>();
  readonly #stages: Record<string, unknown>;
  constructor(stages: Record<string, unknown>) {
    this.#stages = stages;
    this.#needs = new Map(Object.entries(stages).map(([name, raw]) => {
      const needs = asRecord(raw)?.needs;
      return [name, typeof needs === 'string' ? [needs] : Array.isArray(needs) ? needs.filter((n): n is string => typeof n === 'string') : []];
    }));
  }
  names(): string[] {
    return [...this.#needs.keys()];
  }
  /** Stages that save a watermark: their `with` declares one (`watermark: { column }`). */
  savesWatermark(stage: string): boolean {
    return asRecord(asRecord(this.#stages[stage])?.with)?.watermark !== undefined;
  }
  upstream(stage: string): Set<string> {
    let found = this.#upstream.get(stage);
    if (!found) this.#upstream.set(stage, (found = upstreamOf(this.#needs, this.#needs.get(stage) ?? [])));
    return found;
  }
}

/** A template reading `stages.<name>` must name a stage that runs before it: one it needs, directly or not. */
function checkStageReference(ctx: RuleContext, what: string, target: string, at: { stage: string; graph: StageGraph }, range: () => SourceRange | undefined): void {
  const names = at.graph.names();
  if (!names.includes(target)) {
    report(ctx, 'WEIR506', [], `${what} reads stage '${target}', which is not defined${didYouMean(target, names)}`, { range: range() });
  } else if (!at.graph.upstream(at.stage).has(target)) {
    report(ctx, 'WEIR507', [], `${what} reads stage '${target}', which stage '${at.stage}' does not need, so it may not have run yet: add '${target}' to needs`, { range: range() });
  }
}

/**
 * A template reading `watermark.<name>` must name a stage that saves one. Unlike `stages.*` it need
 * not be upstream: the value comes from earlier runs (a stage commonly reads its own).
 */
function checkWatermarkReference(ctx: RuleContext, what: string, target: string, at: { graph: StageGraph }, range: () => SourceRange | undefined): void {
  const names = at.graph.names();
  if (!names.includes(target)) {
    const savers = names.filter((name) => at.graph.savesWatermark(name));
    const hint = didYouMean(target, savers) || (savers.length ? `; stages that save one: ${savers.join(', ')}` : '');
    report(ctx, 'WEIR509', [], `${what} reads the watermark of stage '${target}', which is not defined${hint}`, { range: range() });
  } else if (!at.graph.savesWatermark(target)) {
    report(ctx, 'WEIR509', [], `${what} reads the watermark of stage '${target}', which saves none: add watermark: { column: <column> } to the with: of '${target}' (a sql stage), or read a stage that saves one`, { range: range() });
  }
}

function checkExpression(ctx: RuleContext, where: YamlPath, expression: TemplateExpression, declared: ReadonlySet<string>, used: Set<string>, at: { stage: string; graph: StageGraph }): void {
  const what = expression.source.startsWith('{{') ? `template ${expression.source}` : `condition '${expression.source}'`;
  if (expression.error !== undefined) {
    const range = locateInScalar(ctx.source, ctx.source.nodeAt(where), expression.errorOffset ?? expression.offset);
    report(ctx, 'WEIR502', where, `${what} is invalid: ${expression.error}`, { range });
    return;
  }
  // Positions cost a positioned parse of the file: only looked up when there is something to report.
  const range = (): SourceRange | undefined => locateInScalar(ctx.source, ctx.source.nodeAt(where), expression.offset);
  for (const path of expression.paths) {
    const problem = describeBadPath(path);
    if (problem && !Object.hasOwn(TEMPLATE_ROOTS, path[0])) {
      const roots = Object.keys(TEMPLATE_ROOTS);
      report(ctx, 'WEIR503', where, `${what} uses unknown name '${path[0]}'${didYouMean(path[0], roots)}: templates can use ${roots.join(', ')}`, { range: range() });
    } else if (problem) {
      report(ctx, 'WEIR503', where, `${what}: ${problem}`, { range: range() });
    } else if (path[0] === 'stages') {
      checkStageReference(ctx, what, path[1], at, range);
    } else if (path[0] === 'watermark') {
      checkWatermarkReference(ctx, what, path[1], at, range);
    } else if (path[0] === 'params') {
      used.add(path[1]);
      if (!declared.has(path[1])) {
        report(ctx, 'WEIR501', where, `${what} uses param '${path[1]}', which is not declared${didYouMean(path[1], declared)}: add it under params:`, { range: range() });
      }
    }
  }
}

/** A string under `stages` that may hold templates, with where it sits; `if:` values are whole conditions. */
interface TemplateString {
  text: string;
  path: YamlPath;
  condition: boolean;
  stage: string;
}

/**
 * Every string under `stages` holding `{{` (and every `if:`), read from the plain value: positions
 * are looked up only for a string that has a problem.
 */
function* templateStrings(stages: Record<string, unknown> | undefined): Generator<TemplateString> {
  for (const [stage, raw] of Object.entries(stages ?? {})) {
    const fields = asRecord(raw);
    if (!fields) continue;
    for (const [field, value] of Object.entries(fields)) {
      const path = ['stages', stage, field];
      if (field === 'if' && typeof value === 'string') yield { text: value, path, condition: true, stage };
      else if (field !== 'if') for (const found of stringsIn(value, path)) yield { ...found, condition: false, stage };
    }
  }
}

function* stringsIn(root: unknown, rootPath: YamlPath): Generator<{ text: string; path: YamlPath }> {
  const stack: { value: unknown; path: YamlPath }[] = [{ value: root, path: rootPath }];
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (typeof value === 'string') {
      if (value.includes('{{')) yield { text: value, path };
    } else if (Array.isArray(value)) {
      value.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    } else if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: [...path, key] });
    }
  }
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Why `value` does not fit a param of `type` (with `options`), or undefined when it does. */
function describeMismatch(type: unknown, value: unknown, options: unknown[] | undefined): string | undefined {
  if (options && !options.includes(value)) return `is not one of the options ${options.map(String).join(', ')}`;
  switch (type ?? 'string') {
    case 'string':
      return typeof value === 'string' ? undefined : 'is not a string: quote it';
    case 'number':
      return typeof value === 'number' ? undefined : 'is not a number';
    case 'integer':
      if (!Number.isInteger(value)) return 'is not an integer';
      // Beyond 2^53 a JavaScript number no longer holds every integer: the value would change.
      return Number.isSafeInteger(value) ? undefined : `is beyond ±${Number.MAX_SAFE_INTEGER}, where integers lose precision`;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'is not true or false';
    case 'date':
      return typeof value === 'string' && DATE_PATTERN.test(value) && !Number.isNaN(Date.parse(value)) ? undefined : 'is not a date (YYYY-MM-DD)';
    default:
      return undefined;
  }
}

function checkDeclaration(ctx: RuleContext, name: string, param: Record<string, unknown>): void {
  const options = Array.isArray(param.options) ? param.options : undefined;
  if (param.type === 'choice' && !options) {
    report(ctx, 'WEIR504', ['params', name, 'type'], `param '${name}' has type choice but no options: add options: [first, second]`);
  }
  if (options) checkOptions(ctx, name, param.type, options);
  if (param.secret === true && param.default !== undefined) {
    report(ctx, 'WEIR508', ['params', name, 'default'], `param '${name}' is secret but has a default written in the pipeline file, which anyone who can read the repository sees: remove the default and pass the value at run time`, { severity: 'warning' });
  }
  if (param.default !== undefined) {
    const mismatch = describeMismatch(param.type, param.default, options);
    if (mismatch) {
      report(ctx, 'WEIR504', ['params', name, 'default'], `default of param '${name}' (${describeValue(param.default)}) ${mismatch}: fix the default or the type`);
    }
    if (param.required === true) {
      report(ctx, 'WEIR504', ['params', name, 'required'], `param '${name}' is required but has a default, so it can never be missing: remove required: true or the default`);
    }
  }
}

/** Every option must be a value of the param's type (a choice takes any), and appear once. */
function checkOptions(ctx: RuleContext, name: string, type: unknown, options: unknown[]): void {
  const seen = new Set<unknown>();
  options.forEach((option, i) => {
    const mismatch = type === 'choice' ? undefined : describeMismatch(type, option, undefined);
    if (mismatch) report(ctx, 'WEIR504', ['params', name, 'options', i], `option ${describeValue(option)} of param '${name}' ${mismatch}: fix the option or the type`);
    else if (seen.has(option)) report(ctx, 'WEIR504', ['params', name, 'options', i], `option ${describeValue(option)} of param '${name}' is listed twice: remove one`);
    seen.add(option);
  });
}
