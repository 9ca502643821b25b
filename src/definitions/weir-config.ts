/**
 * `weir.yml`: the repo-level config holding named policies, and the validation of policies
 * (named in weir.yml, or inline on a stage) into positioned diagnostics. Validation is pure and
 * returns issues with YAML paths; weir.yml positions them here, the pipeline validator in its file.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { compareDiagnostics, type Diagnostic } from '../model/diagnostic.ts';
import { parseDuration } from '../model/duration.ts';
import { NAME_PATTERN } from '../model/pipeline.ts';
import { didYouMean } from '../model/did-you-mean.ts';
import { asRecord } from './rule-context.ts';
import { describeIssues, type SchemaIssue } from './schema-issues.ts';
import { parseYamlSource, type YamlPath } from './yaml-parse.ts';
import {
  EMPTY_POLICY_CONFIG, findPolicyDefinition, MAX_DELAY_MESSAGE, POLICY_DEFAULTS, PolicyInput, flattenPolicy, followExtends,
  mergePolicyInputs, policyNames, type PolicyConfig,
} from '../policies/policy.ts';
// notify: channels (reports issue) ↓
import { readChannels, type ChannelConfigs } from '../notify/channel-config.ts';

export const WEIR_CONFIG_FILE = 'weir.yml';

/** Codes of policy diagnostics (docs/policies.md lists them). YAML syntax errors keep WEIR100/WEIR103. */
export const POLICY_CODES = {
  invalid: 'WEIR601',
  unknownPolicy: 'WEIR602',
  maxDelay: 'WEIR603',
  extendsCycle: 'WEIR604',
} as const;

/** A problem in a policy, at a YAML path; `key` points at the key rather than its value. */
export type PolicyIssue = SchemaIssue;

/**
 * Top level of weir.yml. Strict: a misspelt section (`polices:`) would otherwise be ignored in
 * silence, and every policy with it. Policies are checked one by one below.
 */
export const WeirConfigFile = z.strictObject({
  policies: z.record(z.string(), z.unknown()).optional().describe('Named resilience policies. Built-ins: default, gpu-bound, polite-api.'),
  allow_write_paths: z
    .array(z.string().min(1))
    .optional()
    .describe('Folders outside the project root that pipelines may write to (export paths, archives), relative to the root or absolute. Default: none.'),
  channels: z.record(z.string(), z.unknown()).optional().describe('Notification channels (email, slack, webhook) that pipelines name in notify.to. Default: none.'),
});

export interface LoadedWeirConfig {
  config: PolicyConfig;
  /** `allow_write_paths` as written (relative to the project root, or absolute); [] when absent. */
  allowWritePaths: string[];
  /** Valid `channels:` entries by name; {} when absent. */
  channels: ChannelConfigs;
  diagnostics: Diagnostic[];
}

/** Reads `<root>/weir.yml`. No file means the built-in policies only, without a diagnostic. */
export async function loadWeirConfig(root: string): Promise<LoadedWeirConfig> {
  let text: string;
  try {
    text = await readFile(join(root, WEIR_CONFIG_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { config: EMPTY_POLICY_CONFIG, allowWritePaths: [], channels: {}, diagnostics: [] };
    throw error;
  }
  return parseWeirConfig(text, WEIR_CONFIG_FILE);
}

/**
 * Parses weir.yml text. Every problem of the file comes back at once: an unknown section does not
 * hide the policies' problems. Invalid policies are left out of `config`.
 */
export function parseWeirConfig(text: string, file: string): LoadedWeirConfig {
  const { source, diagnostics } = parseYamlSource(text, file);
  if (!source) return { config: EMPTY_POLICY_CONFIG, allowWritePaths: [], channels: {}, diagnostics };
  const toDiagnostic = (issue: PolicyIssue): Diagnostic => {
    const range = issue.key ? source.locateKey(issue.path) : source.locate(issue.path);
    return { code: issue.code, severity: 'error', file, ...range, message: issue.message };
  };
  const document = source.value ?? {};
  const top = checkTopLevel(document, file);
  const { config, issues } = readPolicies(top.policies);
  const channels = readChannels(asRecord(asRecord(document)?.channels) ?? {});
  const channelPolicyIssues = Object.entries(channels.channels).flatMap(([name, channel]) => (channel.policy === undefined ? [] : validatePolicyRef(channel.policy, ['channels', name, 'policy'], config)));
  const all = [...top.issues, ...issues, ...channels.issues, ...channelPolicyIssues];
  return { config, allowWritePaths: top.allowWritePaths, channels: channels.channels, diagnostics: [...diagnostics, ...all.map(toDiagnostic)].sort(compareDiagnostics) };
}

/** The sections of weir.yml, each read as far as it is valid, and the problems of the top level. */
function checkTopLevel(document: unknown, file: string): { policies: Record<string, unknown>; allowWritePaths: string[]; issues: PolicyIssue[] } {
  const parsed = WeirConfigFile.safeParse(document, { reportInput: true });
  const issues = parsed.success
    ? []
    : describeIssues(parsed.error.issues, { base: [], schema: WeirConfigFile, rootName: file }).map((issue) =>
        issue.path[0] === 'policies' ? { ...issue, code: POLICY_CODES.invalid } : issue,
      );
  const record = asRecord(document) ?? {};
  const paths = record.allow_write_paths;
  return {
    policies: asRecord(record.policies) ?? {},
    allowWritePaths: Array.isArray(paths) ? paths.filter((p): p is string => typeof p === 'string' && p !== '') : [],
    issues,
  };
}

function readPolicies(entries: Record<string, unknown>): { config: PolicyConfig; issues: PolicyIssue[] } {
  const issues: PolicyIssue[] = [];
  const policies: Record<string, PolicyInput> = {};
  for (const [name, raw] of Object.entries(entries)) {
    const path = ['policies', name];
    if (!NAME_PATTERN.test(name)) {
      issues.push({ code: POLICY_CODES.invalid, path, key: true, message: `'${name}' is not a valid policy name: use letters, digits, _ and -, starting with a letter or _` });
      continue;
    }
    const parsed = PolicyInput.safeParse(raw ?? {}, { reportInput: true });
    if (parsed.success) policies[name] = parsed.data;
    else issues.push(...toPolicyIssues(parsed.error.issues, path));
  }
  const config: PolicyConfig = { policies };
  for (const name of Object.keys(policies)) issues.push(...checkNamedPolicy(name, config));
  return { config, issues };
}

/** `extends` and max_delay checks of the weir.yml entry `name` (already schema-valid). */
function checkNamedPolicy(name: string, config: PolicyConfig): PolicyIssue[] {
  const path = ['policies', name];
  const own = config.policies[name];
  const { chain, problem } = followExtends(name, config);
  if (problem === 'unknown' && chain.length === 2 && own.extends !== undefined) {
    return [unknownPolicy(own.extends, [...path, 'extends'], config)];
  }
  if (problem === 'cycle' && chain[chain.length - 1] === name) {
    return [{ code: POLICY_CODES.extendsCycle, path: [...path, 'extends'], message: `policy '${name}' extends itself through ${chain.join(' → ')}: remove one of these extends` }];
  }
  if (problem) return []; // reported on the entry where the chain breaks
  return checkDelays(flattenPolicy(name, config), own, path);
}

/**
 * Checks a stage's `policy:` (a name or inline fields) at `path` (e.g. ['stages','load','policy']).
 * Pure: the pipeline validator positions the issues in its file.
 */
export function validatePolicyRef(ref: unknown, path: YamlPath, config: PolicyConfig = EMPTY_POLICY_CONFIG): PolicyIssue[] {
  if (typeof ref === 'string') {
    // A defined policy whose extends chain breaks is reported once, in weir.yml, not at every use.
    const { problem } = followExtends(ref, config);
    return problem && !findPolicyDefinition(ref, config) ? [unknownPolicy(ref, path, config)] : [];
  }
  return validateInlinePolicy(ref, path, config);
}

/** Checks inline policy fields at `path`: schema, `extends` and max_delay ≥ initial_delay. */
export function validateInlinePolicy(record: unknown, path: YamlPath, config: PolicyConfig = EMPTY_POLICY_CONFIG): PolicyIssue[] {
  const parsed = PolicyInput.safeParse(record, { reportInput: true });
  if (!parsed.success) return toPolicyIssues(parsed.error.issues, path);
  const base = parsed.data.extends ?? 'default';
  if (followExtends(base, config).problem) return [unknownPolicy(base, [...path, 'extends'], config)];
  return checkDelays(mergePolicyInputs(flattenPolicy(base, config), parsed.data), parsed.data, path);
}

function unknownPolicy(name: string, path: YamlPath, config: PolicyConfig): PolicyIssue {
  const known = policyNames(config);
  const hint = didYouMean(name, known) || `; known policies: ${known.join(', ')}`;
  return { code: POLICY_CODES.unknownPolicy, path, message: `policy '${name}' is not defined${hint}; define it under policies: in ${WEIR_CONFIG_FILE}` };
}

/** max_delay ≥ initial_delay on the merged policy, reported where the user wrote one of them. */
function checkDelays(merged: PolicyInput, own: PolicyInput, path: YamlPath): PolicyIssue[] {
  const initial = parseDuration(merged.initial_delay ?? POLICY_DEFAULTS.initial_delay);
  const max = parseDuration(merged.max_delay ?? POLICY_DEFAULTS.max_delay);
  if (max >= initial) return [];
  const field = own.max_delay !== undefined ? 'max_delay' : own.initial_delay !== undefined ? 'initial_delay' : undefined;
  return [{ code: POLICY_CODES.maxDelay, path: field ? [...path, field] : path, message: MAX_DELAY_MESSAGE }];
}

/** Zod issues of a policy at `base`, in the words of every other weir diagnostic (one translator). */
export function toPolicyIssues(issues: readonly z.core.$ZodIssue[], base: YamlPath): PolicyIssue[] {
  return describeIssues(issues, { base, schema: PolicyInput, code: POLICY_CODES.invalid });
}
