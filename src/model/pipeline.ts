/**
 * The pipeline file, as zod schemas. These schemas are the single source of truth: validation, the
 * TypeScript types and `schema/pipeline.schema.json` are all derived from them.
 */
import { z } from 'zod';
import { DURATION_PATTERN } from './duration.ts';

/** Current version of the pipeline file format. */
export const SPEC_VERSION = 1;

export const NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export const Duration = z
  .union([z.number().nonnegative(), z.string().regex(DURATION_PATTERN, 'expected a duration such as 30s, 10m or 2h')])
  .describe('Seconds, or a string with a unit: 500ms, 30s, 10m, 2h, 1d.');

const Severity = z.enum(['error', 'warn']).describe("'error' fails the stage; 'warn' only records the result. Default: error.");
const Columns = z.array(z.string().min(1)).min(1);
const checkCommon = {
  severity: Severity.optional(),
  /** Table to check; default: the table the stage produced. */
  table: z.string().optional().describe('Table to check. Default: the table the stage produced.'),
  name: z.string().optional().describe('Name shown in reports. Default: derived from the check.'),
};

export const Check = z.union([
  z.strictObject({ not_null: Columns.describe('Columns that must have no NULL values.'), ...checkCommon }),
  z.strictObject({ unique: Columns.describe('Columns whose combination must be unique.'), ...checkCommon }),
  z.strictObject({
    accepted_values: z.strictObject({ column: z.string().min(1), values: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
    ...checkCommon,
  }),
  z.strictObject({
    row_count: z
      .strictObject({ min: z.number().int().nonnegative().optional(), max: z.number().int().nonnegative().optional() })
      .refine((r) => r.min !== undefined || r.max !== undefined, 'row_count needs min, max or both'),
    ...checkCommon,
  }),
  z.strictObject({ expression: z.string().min(1).describe('SQL predicate that every row must satisfy.'), ...checkCommon }),
]);
export type Check = z.infer<typeof Check>;
export const CHECK_KINDS = ['not_null', 'unique', 'accepted_values', 'row_count', 'expression'] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export const ParamType = z.enum(['string', 'number', 'integer', 'boolean', 'date', 'choice']);
export const Param = z.strictObject({
  type: ParamType.default('string').describe('Value type. Default: string.'),
  description: z.string().optional(),
  default: z.union([z.string(), z.number(), z.boolean()]).optional().describe('Value used when none is given.'),
  required: z.boolean().optional().describe('A run without this parameter is refused. Default: false.'),
  options: z.array(z.union([z.string(), z.number()])).min(1).optional().describe("Allowed values (required for type 'choice')."),
  secret: z.boolean().optional().describe('The value is redacted in every log, event, record and report, and never stored. Default: false.'),
});
export type Param = z.infer<typeof Param>;

export const Schedule = z.strictObject({
  cron: z.string().describe('POSIX 5-field cron, at least 5 minutes apart (GitHub Actions rule).'),
  timezone: z.string().default('UTC').describe('IANA time zone the cron is read in. Default: UTC.'),
  catchup: z
    .enum(['all', 'last', 'none'])
    .default('last')
    .describe('Which intervals a schedule trigger runs: all (every missed or failed one since start_date), last (the latest, retried until it succeeds), none (the latest, once). Default: last.'),
  max_catchup: z.number().int().min(1).optional().describe('Most intervals one trigger runs, oldest first; the next trigger goes on. Default: 10.'),
  start_date: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/, 'a date (YYYY-MM-DD, UTC) or an ISO 8601 instant with its offset')
    .optional()
    .describe('How far back catchup: all goes (a UTC date or an ISO 8601 instant). Default: the oldest run in the ledger.'),
});
export type Schedule = z.infer<typeof Schedule>;

/** Events a run can notify on. */
export const NOTIFY_EVENTS = ['failure', 'success', 'recovery', 'check_warning', 'dead_letters', 'sla_breach'] as const;
export type NotifyEvent = (typeof NOTIFY_EVENTS)[number];
export const NotifyRule = z.strictObject({
  on: z.array(z.enum(NOTIFY_EVENTS)).min(1).default(['failure']).describe('Events that notify: failure, success, recovery (first success after failures), check_warning, dead_letters, sla_breach (the run, its start or any stage past its sla, sent as it happens). Default: [failure].'),
  to: z.array(z.string().min(1)).min(1).describe('Channel names from weir.yml channels:.'),
});
/** One rule, or a list of rules (each event goes once to each channel, however many rules name it). */
export const Notify = z.union([NotifyRule, z.array(NotifyRule).min(1)]);
export type NotifyRule = z.infer<typeof NotifyRule>;

// Stage notify (sla branch) ↓ the same shape, for events about one stage (recovery is about runs only).
export const STAGE_NOTIFY_EVENTS = ['failure', 'success', 'check_warning', 'dead_letters', 'sla_breach'] as const;
export const StageNotifyRule = z.strictObject({
  on: z.array(z.enum(STAGE_NOTIFY_EVENTS)).min(1).default(['failure']).describe("Events of this stage that notify: failure, success, check_warning, dead_letters, sla_breach (the stage's sla, sent as it happens). Default: [failure]."),
  to: z.array(z.string().min(1)).min(1).describe('Channel names from weir.yml channels:.'),
});
export const StageNotify = z.union([StageNotifyRule, z.array(StageNotifyRule).min(1)]);
export type StageNotifyRule = z.infer<typeof StageNotifyRule>;

/** Inline policy fields on a stage. The full policy model lives in src/policies (resilience issue). */
export const PolicyRef = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

/** GitHub runs at most 256 jobs of one matrix: the most shards a stage may have. */
export const MAX_SHARDS = 256;
// Gates (gates issue) ↓ `sets:` on any stage.
/** `global` sets a flag every pipeline's gates see; another pipeline's name sets it there. */
export const FLAG_SCOPE_PATTERN = /^(global|[A-Za-z_][A-Za-z0-9_-]*)$/;
const FlagScalar = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.unknown())]);
export const FlagSetSpec = z
  .strictObject({
    value: z.unknown().optional().describe('The value (any JSON; strings are templates).'),
    sql: z.string().min(1).optional().describe("A query on the run's database; the flag takes the first column of its first row (null without rows)."),
    key: z.string().min(1).optional().describe("Set the flag for this key only (e.g. '{{ params.doc_id }}'). Default: unkeyed."),
    scope: z.string().regex(FLAG_SCOPE_PATTERN, "'global' or a pipeline name").optional().describe("'global' (every pipeline) or a pipeline name. Default: this pipeline."),
  })
  .refine((s) => ('value' in s) !== (s.sql !== undefined), 'give exactly one of value or sql');
export type FlagSetSpec = z.infer<typeof FlagSetSpec>;
export const StageSets = z
  .record(z.string().regex(NAME_PATTERN, 'flag names use letters, digits, _ and -, starting with a letter or _'), z.union([FlagScalar, FlagSetSpec]))
  .describe('Ledger flags this stage sets when it succeeds, applied only when the run commits (succeeds): name: value, or name: { value | sql, key?, scope? }. Default: none.');

export const Stage = z.strictObject({
  uses: z.string().min(1).describe('Stage kind: sql, http, files, export, command, report, gate.'),
  description: z.string().optional(),
  needs: z.union([z.string(), z.array(z.string())]).optional().describe('Stages that must succeed first.'),
  with: z.record(z.string(), z.unknown()).optional().describe('Settings of the stage kind.'),
  'runs-on': z
    .union([z.string(), z.array(z.string()).min(1)])
    .optional()
    .describe("Runner labels. Stages on other labels run as their own jobs in the generated workflow (weir compile); weir run runs every stage in one process. Default: the main job's runner."),
  requires: z.array(z.enum(['gpu'])).optional().describe('Hardware the stage needs; absent hardware fails fast.'),
  shards: z
    .number()
    .int()
    .min(2)
    .max(MAX_SHARDS, `GitHub runs at most ${MAX_SHARDS} jobs of one matrix`)
    .optional()
    .describe('Run this stage as N matrix jobs, each over a deterministic partition of its input table (hash of shard_by, else row number); the next stages see the union. Default: one job.'),
  shard_by: z.string().min(1).optional().describe('Column of the partitioned table hashed to choose the shard (needs shards). Default: row number.'),
  shard_table: z
    .string()
    .min(1)
    .optional()
    .describe('Which input table is partitioned (needs shards). Default: the table of the one stage it needs that produces one.'),
  cache: z
    .strictObject({
      path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).describe('Folders (relative to the project root) to keep, e.g. models/.'),
      key: z.string().min(1).describe('Cache key: change it to replace what is kept, e.g. model-bge-small-v1.'),
    })
    .optional()
    .describe('Inputs the stage reads that do not change between runs (a model folder), kept in the GitHub Actions cache: restored before the stage runs, saved after it succeeds when the key was not found. Outside Actions: no effect (the folder stays on disk). Default: none.'),
  policy: PolicyRef.optional().describe('Name of a resilience policy, or inline policy fields.'),
  checks: z.array(Check).optional().describe('Data-quality checks on the table the stage produces.'),
  timeout: Duration.optional().describe('Stage time limit. Default: the policy timeout, else none.'),
  if: z.string().optional().describe('Template condition; the stage is skipped when it renders false.'),
  enabled: z.boolean().optional().describe('false skips the stage (and its dependents). Default: true.'),
  // SLA and stage notify (sla branch) ↓
  sla: Duration.optional().describe('Expected stage duration, from its first start (retries included): still running past it is an SLA breach, recorded once and sent to sla_breach rules as it happens. Default: none.'),
  notify: StageNotify.optional().describe("Notifications about this stage: its events to channels defined in weir.yml (one message per run, event, channel and stage; a pipeline rule that already sends the event to the channel covers it). Default: none."),
  sets: StageSets.optional(),
});
export type Stage = z.infer<typeof Stage>;

export const Pipeline = z.strictObject({
  version: z.literal(SPEC_VERSION).default(SPEC_VERSION).describe('Pipeline file format version. Default: 1.'),
  name: z.string().regex(NAME_PATTERN, 'use letters, digits, _ and -, starting with a letter or _'),
  description: z.string().optional(),
  schedule: Schedule.optional(),
  params: z.record(z.string().regex(NAME_PATTERN), Param).optional(),
  stages: z.record(z.string().regex(NAME_PATTERN, 'stage names use letters, digits, _ and -'), Stage),
  concurrency: z.number().int().positive().optional().describe('Most stages running at once. Default: 4.'),
  max_active_runs: z.number().int().positive().optional().describe('Runs of this pipeline allowed at once on one ledger (a second one fails with run_conflict, or waits with --wait). Not the same as concurrency, which bounds stages within a run. Default: 1.'),
  timeout: Duration.optional().describe('Whole-run time limit. Default: none.'),
  sla: Duration.optional().describe("Expected run duration: a run still going past it is an SLA breach, recorded once and sent to sla_breach rules as it happens. Measured from the run's start; for a scheduled run from its tick, so a run starting more than sla after its tick is in breach at its start. Default: none."),
  artifacts: z.array(z.string().min(1)).optional().describe("Files (globs, relative to the project) added to the run's report artifact, e.g. out/**/*.csv. Default: none."),
  notify: Notify.optional().describe('Notifications after the run (sla_breach: during it): events to channels defined in weir.yml. Default: none.'),
});
export type PipelineSpec = z.infer<typeof Pipeline>;
export type PipelineInput = z.input<typeof Pipeline>;

/** A validated pipeline with where it came from. */
export interface LoadedPipeline {
  spec: PipelineSpec;
  /** Path of the file, as given (relative to the project root when found by discovery). */
  file: string;
  /** Source positions: `locate(['stages','load','needs',0])` → line/column. */
  locate: (path: readonly (string | number)[]) => { line: number; column: number };
}

export function stageNeeds(stage: Stage): string[] {
  if (stage.needs === undefined) return [];
  return typeof stage.needs === 'string' ? [stage.needs] : stage.needs;
}

export function runsOnLabel(stage: Stage): string | undefined {
  const value = stage['runs-on'];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}
