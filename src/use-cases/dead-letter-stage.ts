/**
 * After a stage ran: set its bad records aside and judge the rest. Records a kind could not parse
 * (reported through ctx.deadLetter) and, for kinds that take in outside data (http, files), rows
 * that break a row-level `error` check are moved out of the table into the run's dead letters —
 * `<runDir>/dead-letters/<stage>.jsonl` and the table `<stage>__dead_letters` — with the reason.
 * The stage then fails only if their share is above the policy's max_dead_letter_ratio.
 */
import { rm } from 'node:fs/promises';
import { relative } from 'node:path';
import { quoteIdent, quoteLiteral, type Database } from '../model/database.ts';
import { CheckFailedError } from '../model/errors.ts';
import type { CheckResult, RunEvent } from '../model/events.ts';
import type { Check } from '../model/pipeline.ts';
import { assertDeadLetterRatio, DeadLetterSink } from '../policies/dead-letters.ts';
import type { ResolvedPolicy } from '../policies/policy.ts';
import { assertChecksPassed, checkName, rowFailurePredicate, runChecks } from '../stages/checks.ts';
import type { AnyStageKind } from '../stages/registry.ts';
import type { StageResult } from '../stages/stage-kind.ts';

export interface DeadLetterSummary {
  count: number;
  total: number;
  file?: string;
  table?: string;
}

export interface SettleInput {
  stage: string;
  kind: AnyStageKind;
  policy: ResolvedPolicy;
  result: StageResult;
  table: string | undefined;
  letters: { record: unknown; reason: string; origin: object }[];
  checks: readonly Check[] | undefined;
  db: Database;
  runDir: string;
  signal: AbortSignal;
  runId: string;
  emit(event: RunEvent): void;
  now(): number;
  /** Replaces known secret values in what is written (the dead-letter file). */
  redact?(text: string): string;
}

/** Removes the dead letters (file and table) an earlier attempt of `stage` left, so only the final attempt's remain. */
export async function clearDeadLetters(input: { db: Database; runDir: string; stage: string; signal: AbortSignal }): Promise<void> {
  await rm(new DeadLetterSink(input.runDir, input.stage).file, { force: true });
  await input.db.exec(`DROP TABLE IF EXISTS ${quoteIdent(`${input.stage}__dead_letters`)}`, input.signal);
}

/** Moves rows failing row-level error checks out of `table`; returns them as letters. */
async function divertFailingRows(input: SettleInput, table: string): Promise<SettleInput['letters']> {
  const diverted: SettleInput['letters'] = [];
  for (const check of input.checks ?? []) {
    const predicate = (check.severity ?? 'error') === 'error' && !check.table ? rowFailurePredicate(check) : undefined;
    if (!predicate) continue;
    const name = quoteIdent(table);
    const rows = await input.db.query(`SELECT to_json(t)::VARCHAR AS record FROM ${name} t WHERE ${predicate}`, input.signal);
    if (rows.length === 0) continue;
    for (const row of rows) diverted.push({ record: JSON.parse(String(row.record)), reason: `failed check ${checkName(check)}`, origin: { table } });
    await input.db.exec(`DELETE FROM ${name} WHERE ${predicate}`, input.signal);
  }
  return diverted;
}

async function recordLetters(input: SettleInput, letters: SettleInput['letters'], total: number): Promise<DeadLetterSummary> {
  const sink = new DeadLetterSink(input.runDir, input.stage);
  for (const letter of letters) sink.add(letter.record, letter.reason, letter.origin);
  const file = await sink.flush(input.redact);
  const table = `${input.stage}__dead_letters`;
  await input.db.exec(
    `CREATE OR REPLACE TABLE ${quoteIdent(table)} AS SELECT * FROM read_json(${quoteLiteral(file!)}, columns = {record: 'JSON', reason: 'VARCHAR', source: 'JSON'})`,
    input.signal,
  );
  // Relative to the run folder: the record and its events may be committed (git ledger), and an absolute path says nothing elsewhere.
  const summary = { count: letters.length, total, file: file === undefined ? undefined : relative(input.runDir, file), table };
  input.emit({ type: 'stage.dead_letters', runId: input.runId, at: new Date(input.now()).toISOString(), stage: input.stage, ...summary });
  return summary;
}

export async function settleDeadLetters(input: SettleInput): Promise<{ result: StageResult; checks?: CheckResult[]; deadLetters?: DeadLetterSummary }> {
  let { result } = input;
  const letters = [...input.letters];
  if (input.table && input.kind.deadLetters) letters.push(...(await divertFailingRows(input, input.table)));
  let deadLetters: DeadLetterSummary | undefined;
  if (letters.length > 0) {
    const diverted = letters.length - input.letters.length;
    const rows = result.rows === undefined ? undefined : result.rows - diverted;
    const total = result.total ?? (rows ?? 0) + letters.length;
    result = { ...result, rows };
    deadLetters = await recordLetters(input, letters, total);
    try {
      assertDeadLetterRatio(deadLetters.count, total, input.policy.maxDeadLetterRatio, { stage: input.stage, file: deadLetters.file });
    } catch (error) {
      // Bad input data does not get better on a second attempt: fail as a check, which is not retried.
      throw new CheckFailedError((error as Error).message, { stage: input.stage, cause: error });
    }
  }
  if (!input.checks?.length || !input.table) return { result, deadLetters };
  const checks = await runChecks(input.db, input.table, input.checks, input.signal);
  try {
    assertChecksPassed(checks, input.stage);
  } catch (error) {
    throw Object.assign(error as Error, { checks });
  }
  return { result, checks, deadLetters };
}
