/**
 * Rules about params and templates: every `{{ … }}` in the stages parses and reads known names,
 * every param it reads is declared, declarations are coherent, declared params are used. The YAML
 * tree of the stages is walked once; strings without `{{` cost one indexOf.
 */
import { isMap, isPair, isScalar, isSeq, type Node, type Scalar } from 'yaml';
import { describeBadPath, findConditionExpressions, findTemplateExpressions, TEMPLATE_ROOTS, type TemplateExpression } from '../model/template.ts';
import { upstreamOf } from '../planner/graph.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { asRecord, describeValue, report, type RuleContext } from './rule-context.ts';
import { locateInScalar } from './yaml-positions.ts';

/** Checks templates in the stages and the params block; `extraTemplates` are texts of referenced files. */
export function checkParamsAndTemplates(ctx: RuleContext, params: Record<string, unknown>, extraTemplates: readonly string[]): void {
  const declared = new Set(Object.keys(params));
  const used = new Set<string>();
  const graph = new StageGraph(asRecord(asRecord(ctx.source.value)?.stages) ?? {});
  for (const { node, condition, stage } of templateStrings(ctx.source.nodeAt(['stages']))) {
    const text = String(node.value);
    const expressions = condition ? findConditionExpressions(text) : findTemplateExpressions(text);
    for (const expression of expressions) checkExpression(ctx, node, expression, declared, used, { stage, graph });
  }
  for (const text of extraTemplates) {
    for (const expression of findTemplateExpressions(text)) {
      for (const path of expression.paths) if (path[0] === 'params' && path[1]) used.add(path[1]);
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
  constructor(stages: Record<string, unknown>) {
    this.#needs = new Map(Object.entries(stages).map(([name, raw]) => {
      const needs = asRecord(raw)?.needs;
      return [name, typeof needs === 'string' ? [needs] : Array.isArray(needs) ? needs.filter((n): n is string => typeof n === 'string') : []];
    }));
  }
  names(): string[] {
    return [...this.#needs.keys()];
  }
  upstream(stage: string): Set<string> {
    let found = this.#upstream.get(stage);
    if (!found) this.#upstream.set(stage, (found = upstreamOf(this.#needs, this.#needs.get(stage) ?? [])));
    return found;
  }
}

/** A template reading `stages.<name>` must name a stage that runs before it: one it needs, directly or not. */
function checkStageReference(ctx: RuleContext, what: string, target: string, at: { stage: string; graph: StageGraph }, range: ReturnType<typeof locateInScalar>): void {
  const names = at.graph.names();
  if (!names.includes(target)) {
    report(ctx, 'WEIR506', [], `${what} reads stage '${target}', which is not defined${didYouMean(target, names)}`, { range });
  } else if (!at.graph.upstream(at.stage).has(target)) {
    report(ctx, 'WEIR507', [], `${what} reads stage '${target}', which stage '${at.stage}' does not need, so it may not have run yet: add '${target}' to needs`, { range });
  }
}

function checkExpression(ctx: RuleContext, node: Node, expression: TemplateExpression, declared: ReadonlySet<string>, used: Set<string>, at: { stage: string; graph: StageGraph }): void {
  const what = expression.source.startsWith('{{') ? `template ${expression.source}` : `condition '${expression.source}'`;
  if (expression.error !== undefined) {
    const range = locateInScalar(ctx.source, node, expression.errorOffset ?? expression.offset);
    report(ctx, 'WEIR502', [], `${what} is invalid: ${expression.error}`, { range });
    return;
  }
  const range = locateInScalar(ctx.source, node, expression.offset);
  for (const path of expression.paths) {
    const problem = describeBadPath(path);
    if (problem && !Object.hasOwn(TEMPLATE_ROOTS, path[0])) {
      const roots = Object.keys(TEMPLATE_ROOTS);
      report(ctx, 'WEIR503', [], `${what} uses unknown name '${path[0]}'${didYouMean(path[0], roots)}: templates can use ${roots.join(', ')}`, { range });
    } else if (problem) {
      report(ctx, 'WEIR503', [], `${what}: ${problem}`, { range });
    } else if (path[0] === 'stages') {
      checkStageReference(ctx, what, path[1], at, range);
    } else if (path[0] === 'params') {
      used.add(path[1]);
      if (!declared.has(path[1])) {
        report(ctx, 'WEIR501', [], `${what} uses param '${path[1]}', which is not declared${didYouMean(path[1], declared)}: add it under params:`, { range });
      }
    }
  }
}

/** Every string scalar under `stages` that may hold templates; `if:` values are whole conditions. */
function* templateStrings(stages: Node | undefined): Generator<{ node: Scalar; condition: boolean; stage: string }> {
  if (!isMap(stages)) return;
  for (const stagePair of stages.items) {
    const stage = stagePair.value as Node | null;
    if (!isMap(stage)) continue;
    const name = String(isScalar(stagePair.key) ? stagePair.key.value : stagePair.key);
    for (const pair of stage.items) {
      const isCondition = isScalar(pair.key) && pair.key.value === 'if';
      const value = pair.value as Node | null;
      if (isCondition && isScalar(value) && typeof value.value === 'string') yield { node: value, condition: true, stage: name };
      else if (!isCondition) for (const found of stringsIn(value)) yield { ...found, stage: name };
    }
  }
}

function* stringsIn(root: Node | null): Generator<{ node: Scalar; condition: boolean }> {
  const stack: (Node | null)[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isScalar(node)) {
      if (typeof node.value === 'string' && node.value.includes('{{')) yield { node, condition: false };
    } else if (isMap(node)) {
      for (const pair of node.items) if (isPair(pair)) stack.push(pair.value as Node | null);
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item as Node | null);
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
      return Number.isInteger(value) ? undefined : 'is not an integer';
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
