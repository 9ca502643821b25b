/**
 * Rules across fields, which a schema of one field cannot express: a row_count whose min is above
 * its max, a stage timeout the run timeout cuts short, an export whose format cannot be known,
 * fields accepted today that do nothing yet. Each message says what to change.
 */
import { tryParseDuration } from '../model/duration.ts';
import { asRecord, report, type RuleContext } from './rule-context.ts';
import { didYouMean } from '../model/did-you-mean.ts';

export const CONSISTENCY_CODES = { planned: 'WEIR107', timeout: 'WEIR108', check: 'WEIR307', with: 'WEIR302', unknownChannel: 'WEIR612' } as const;

/** Fields the schema accepts and the docs promise, that this version of weir does not act on yet (none at the top level since sla landed). */
const PLANNED_TOP_LEVEL: Readonly<Record<string, string>> = {};

/** Extensions the export kind reads its format from (src/stages/export.ts formatOf). */
const EXPORT_EXTENSION = /\.(csv|parquet|json|jsonl|ndjson)(\.gz)?$/i;

export function checkConsistency(ctx: RuleContext, document: Record<string, unknown>, stages: Record<string, unknown>, channels?: readonly string[]): void {
  checkPlannedFields(ctx, document);
  checkNotify(ctx, document.notify, channels);
  checkSla(ctx, ['sla'], document.sla, 'the run');
  const runTimeout = tryParseDuration(document.timeout);
  if (runTimeout === 0) report(ctx, CONSISTENCY_CODES.timeout, ['timeout'], 'a run timeout of 0 stops every run at once: remove timeout or give a positive duration such as 30m');
  for (const [name, raw] of Object.entries(stages)) {
    const stage = asRecord(raw);
    if (!stage) continue;
    checkStageTimeout(ctx, name, stage.timeout, document.timeout, runTimeout);
    // Stage SLA and notify (sla branch) ↓
    checkSla(ctx, ['stages', name, 'sla'], stage.sla, `stage '${name}'`);
    checkNotify(ctx, stage.notify, channels, ['stages', name, 'notify']);
    checkRowCounts(ctx, name, stage.checks);
    if (stage.uses === 'export') checkExportFormat(ctx, name, asRecord(stage.with));
  }
}

function checkPlannedFields(ctx: RuleContext, document: Record<string, unknown>): void {
  for (const [field, why] of Object.entries(PLANNED_TOP_LEVEL)) {
    if (document[field] !== undefined) report(ctx, CONSISTENCY_CODES.planned, [field], `${field} has no effect yet (planned): ${why}; keep it for when it lands, or remove it`, planned());
  }
}

const planned = () => ({ key: true, severity: 'warning' as const });

// notify: (reports issue) ↓ channels named in notify.to (the pipeline's or a stage's) must be defined in weir.yml.
function checkNotify(ctx: RuleContext, notify: unknown, channels: readonly string[] | undefined, at: readonly (string | number)[] = ['notify']): void {
  const rules = Array.isArray(notify) ? notify.map((rule, i) => [rule, [...at, i]] as const) : notify === undefined ? [] : [[notify, at] as const];
  for (const [raw, base] of rules) {
    const rule = asRecord(raw);
    if (channels === undefined || !Array.isArray(rule?.to)) continue;
    rule.to.forEach((name, i) => {
      if (typeof name !== 'string' || channels.includes(name)) return;
      const hint = didYouMean(name, channels) || (channels.length ? `; defined channels: ${channels.join(', ')}` : '; weir.yml defines no channels');
      report(ctx, CONSISTENCY_CODES.unknownChannel, [...base, 'to', i], `notify.to names channel '${name}', which is not defined${hint}; define it under channels: in weir.yml`);
    });
  }
}

// SLA (sla branch) ↓ an SLA of 0 is breached by every run the moment it starts.
function checkSla(ctx: RuleContext, path: (string | number)[], sla: unknown, what: string): void {
  if (tryParseDuration(sla) !== 0) return;
  report(ctx, CONSISTENCY_CODES.timeout, path, `${what} has an sla of 0, which every run breaches at once: remove sla or give the duration you expect, such as 10m`);
}

function checkStageTimeout(ctx: RuleContext, name: string, timeout: unknown, runTimeoutText: unknown, runTimeout: number | undefined): void {
  const ms = tryParseDuration(timeout);
  if (ms === undefined) return;
  const path = ['stages', name, 'timeout'];
  if (ms === 0) {
    report(ctx, CONSISTENCY_CODES.timeout, path, `stage '${name}' has a timeout of 0, which stops every attempt at once: remove it or give a positive duration such as 30s`);
  } else if (runTimeout !== undefined && runTimeout > 0 && ms > runTimeout) {
    report(ctx, CONSISTENCY_CODES.timeout, path, `stage '${name}' has timeout ${String(timeout)}, longer than the pipeline's timeout ${String(runTimeoutText)}, which stops the run first: lower the stage timeout or raise the pipeline's`);
  }
}

function checkRowCounts(ctx: RuleContext, name: string, checks: unknown): void {
  if (!Array.isArray(checks)) return;
  checks.forEach((check, i) => {
    const bounds = asRecord(asRecord(check)?.row_count);
    if (typeof bounds?.min !== 'number' || typeof bounds.max !== 'number' || bounds.min <= bounds.max) return;
    report(ctx, CONSISTENCY_CODES.check, ['stages', name, 'checks', i, 'row_count', 'min'], `stage '${name}': row_count min ${bounds.min} is above max ${bounds.max}, so the check can never pass: lower min or raise max`);
  });
}

function checkExportFormat(ctx: RuleContext, name: string, settings: Record<string, unknown> | undefined): void {
  const target = settings?.path;
  if (typeof target !== 'string' || settings?.format !== undefined || target.includes('{{')) return;
  if (EXPORT_EXTENSION.test(target)) return;
  report(ctx, CONSISTENCY_CODES.with, ['stages', name, 'with', 'path'], `stage '${name}' exports to '${target}', whose extension names no format: end the path in .csv, .parquet, .json, .jsonl or .ndjson, or set with.format`);
}
