/**
 * `uses: gate` — waits for a condition on ledger flags (`flags.pdf_ir_ready == true`), optionally for
 * one key (a document id). Met: the stage succeeds at once. Not met: it throws GateNotMetError, which
 * the executor turns into a `waiting` stage: the run parks when nothing else can run, and a later
 * trigger resumes it here. Past `timeout` (counted from when the run first parked) it fails with a
 * GateTimeoutError instead. Never retried by a policy: waiting is the retry.
 */
import { z } from 'zod';
import { formatDuration, parseDuration } from '../model/duration.ts';
import { GateNotMetError, GateTimeoutError } from '../model/errors.ts';
import { Duration } from '../model/pipeline.ts';
import { describeBadPath, describeFlagPath, findConditionExpressions } from '../model/template.ts';
import type { StageKind } from './stage-kind.ts';

/** Why a condition can never be evaluated (bad syntax, an unknown name), caught by `weir validate`. */
function conditionProblem(condition: string): string | undefined {
  for (const found of findConditionExpressions(condition)) {
    if (found.error) return `condition: ${found.error}`;
    for (const path of found.paths) {
      const problem = path[0] === 'flags' ? describeFlagPath(path) : describeBadPath(path);
      if (problem) return `condition: ${problem}${path[0] === 'flags' ? '' : ', and flags (in a gate)'}`;
    }
  }
  return undefined;
}

const GateConfig = z.strictObject({
  condition: z
    .string()
    .min(1, 'a gate needs a condition, e.g. "flags.ready == true"')
    .superRefine((condition, ctx) => {
      const problem = conditionProblem(condition);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .describe('Template condition over ledger flags, e.g. "flags.pdf_ir_ready == true"; an unset flag reads as null.'),
  key: z.string().min(1).optional().describe("Read the flags set for this key (e.g. '{{ params.doc_id }}') before the unkeyed ones. Default: unkeyed flags only."),
  timeout: Duration.optional().describe('How long the run may stay parked on this gate, from when it first parked; past it the gate fails with gate_timeout. Default: no limit.'),
});
export type GateConfig = z.infer<typeof GateConfig>;

export const gateStage: StageKind<GateConfig> = {
  name: 'gate',
  summary: 'Wait for a condition on ledger flags; the run parks until a later trigger finds it met',
  with: GateConfig,
  producesTable: false,
  isRetriable: () => false,
  async run(ctx, config) {
    const gate = ctx.gate;
    if (!gate) throw new GateNotMetError(`stage '${ctx.stage}': this run cannot read ledger flags; run it with 'weir run'`, { stage: ctx.stage });
    const flags = await gate.flags(config.key);
    const forKey = config.key === undefined ? '' : ` for key '${config.key}'`;
    if (gate.evaluate(config.condition, flags)) {
      ctx.log.info(`gate met: ${config.condition}${forKey}`);
      return { outputs: { condition: config.condition, ...(config.key === undefined ? {} : { key: config.key }), met: true } };
    }
    const parkedAt = gate.parkedAt();
    if (config.timeout !== undefined && parkedAt !== undefined) {
      const limit = parseDuration(config.timeout);
      const waited = gate.now() - Date.parse(parkedAt);
      if (waited >= limit) {
        throw new GateTimeoutError(
          `stage '${ctx.stage}': gate condition '${config.condition}'${forKey} was still not met ${formatDuration(waited)} after the run parked (timeout ${formatDuration(limit)}); ` +
            `set the flag it waits for ('weir flags set …') and run the pipeline again, or raise with.timeout`,
          { stage: ctx.stage },
        );
      }
    }
    throw new GateNotMetError(`waiting for ${config.condition}${forKey}${parkedAt ? ` (parked since ${parkedAt})` : ''}; 'weir flags set' the flag, then the next trigger resumes the run`, { stage: ctx.stage });
  },
};
