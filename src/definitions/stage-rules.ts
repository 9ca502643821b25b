/**
 * Rules about stages: their kind and its `with` block, referenced files, checks, policies, and the
 * `needs` graph (unknown stages, self-dependencies, cycles). Linear in the number of stages:
 * did-you-mean only runs for names that are already known to be wrong.
 */
import { POLICY_CODES, validatePolicyRef } from './weir-config.ts';
import { EMPTY_POLICY_CONFIG, type PolicyConfig } from '../policies/policy.ts';
import { findCycles } from '../planner/graph.ts';
import { kindProducesTable } from '../planner/plan.ts';
import type { StageKindRegistry } from '../stages/registry.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { asRecord, report, type RuleContext } from './rule-context.ts';
import { reportIssues } from './schema-issues.ts';
import type { YamlPath } from './yaml-positions.ts';

export interface StageRuleOptions {
  kinds: StageKindRegistry;
  fileExists: (relPath: string) => boolean;
  /** Policies from weir.yml (built-ins are always known). */
  policies?: PolicyConfig;
}

/** A file a stage refers to that exists: its templates are checked too (param uses, watermark references). */
export interface ExistingReference {
  path: string;
  stage: string;
  /** Where the reference sits in the pipeline file. */
  at: YamlPath;
}

/** Checks every stage; returns the referenced files that exist. */
export function checkStages(ctx: RuleContext, stages: Record<string, unknown>, options: StageRuleOptions): ExistingReference[] {
  const existingFiles: ExistingReference[] = [];
  for (const [name, raw] of Object.entries(stages)) {
    const stage = asRecord(raw);
    if (!stage) continue;
    checkKind(ctx, name, stage, options, existingFiles);
    checkPolicy(ctx, name, stage.policy, options.policies ?? EMPTY_POLICY_CONFIG);
  }
  checkNeeds(ctx, stages);
  return existingFiles;
}

function checkKind(ctx: RuleContext, name: string, stage: Record<string, unknown>, options: StageRuleOptions, existingFiles: ExistingReference[]): void {
  if (typeof stage.uses !== 'string') return;
  const kind = options.kinds.get(stage.uses);
  if (!kind) {
    const known = [...options.kinds.keys()];
    report(ctx, 'WEIR301', ['stages', name, 'uses'], `stage '${name}' uses unknown kind '${stage.uses}'${didYouMean(stage.uses, known)}; known kinds: ${known.join(', ')}`);
    return;
  }
  const base = ['stages', name, 'with'];
  const parsed = kind.with.safeParse(stage.with ?? {}, { reportInput: true });
  if (!parsed.success) {
    reportIssues(ctx, parsed.error.issues, { base, schema: kind.with, code: 'WEIR302' });
  } else {
    for (const reference of kind.references?.(parsed.data) ?? []) {
      // A templated path is only known at run time.
      if (reference.path.includes('{{')) continue;
      if (options.fileExists(reference.path)) existingFiles.push({ path: reference.path, stage: name, at: [...base, ...reference.field] });
      else report(ctx, 'WEIR303', [...base, ...reference.field], `stage '${name}' refers to '${reference.path}', which does not exist: create it or fix the path (relative paths resolve against the project root, the folder holding pipelines/)`);
    }
  }
  if (stage.checks !== undefined && !kindProducesTable(kind, stage.with)) {
    report(ctx, 'WEIR304', ['stages', name, 'checks'], `stage '${name}' uses '${kind.name}', which produces no table, so it cannot have checks: move them to a stage that produces a table`, { key: true });
  }
}

/** A stage's `policy:`: a name defined in weir.yml or built in, or inline fields (src/policies). */
function checkPolicy(ctx: RuleContext, name: string, policy: unknown, policies: PolicyConfig): void {
  if (policy === undefined) return;
  for (const issue of validatePolicyRef(policy, ['stages', name, 'policy'], policies)) {
    const code = issue.code === POLICY_CODES.unknownPolicy ? 'WEIR305' : issue.code;
    report(ctx, code, issue.path, `stage '${name}': ${issue.message}`, { key: issue.key !== undefined });
  }
}

/** The needs of a raw stage with the YAML path of each, skipping values of the wrong type. */
function needsOf(name: string, stage: Record<string, unknown> | undefined): { need: string; path: YamlPath }[] {
  const needs = stage?.needs;
  const base = ['stages', name, 'needs'];
  if (typeof needs === 'string') return [{ need: needs, path: base }];
  if (!Array.isArray(needs)) return [];
  return needs.flatMap((need, i) => (typeof need === 'string' ? [{ need, path: [...base, i] }] : []));
}

function checkNeeds(ctx: RuleContext, stages: Record<string, unknown>): void {
  const deps = new Map<string, string[]>();
  for (const [name, raw] of Object.entries(stages)) {
    const valid: string[] = [];
    for (const { need, path } of needsOf(name, asRecord(raw))) {
      if (need === name) {
        report(ctx, 'WEIR203', path, `stage '${name}' needs itself: remove '${name}' from its needs`);
      } else if (!Object.hasOwn(stages, need)) {
        report(ctx, 'WEIR201', path, `stage '${name}' needs '${need}', which is not defined${didYouMean(need, Object.keys(stages))}`);
      } else {
        valid.push(need);
      }
    }
    deps.set(name, valid);
  }
  for (const cycle of findCycles(deps)) {
    report(ctx, 'WEIR202', ['stages', cycle[0], 'needs'], `stages form a cycle: ${cycle.join(' → ')}; remove one of these needs so the stages can run in order`);
  }
}
