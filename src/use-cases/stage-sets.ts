/**
 * A stage's `sets:` (gates issue): the flags it asks for, evaluated when the stage has succeeded
 * (templates rendered, `sql` run on the run's database). They ride on the stage's state commit, so
 * they reach the ledger only when the run commits (succeeds): a failed or parked run sets nothing.
 */
import type { Database } from '../model/database.ts';
import type { FlagSetSpec, Stage } from '../model/pipeline.ts';
import { GLOBAL_FLAG_SCOPE, type FlagSet } from '../ledger/flags.ts';

export interface SetsDeps {
  pipeline: string;
  db: Pick<Database, 'scalar'>;
  render(text: string): string;
  signal?: AbortSignal;
}

function isSpec(value: unknown): value is FlagSetSpec {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The flags a succeeded stage sets, in the order written. */
export async function evaluateSets(sets: Stage['sets'], deps: SetsDeps): Promise<FlagSet[]> {
  const flags: FlagSet[] = [];
  for (const [name, entry] of Object.entries(sets ?? {})) {
    const spec: FlagSetSpec = isSpec(entry) ? entry : { value: entry };
    const scope = spec.scope === undefined ? deps.pipeline : spec.scope === 'global' ? GLOBAL_FLAG_SCOPE : spec.scope;
    const value = spec.sql !== undefined ? ((await deps.db.scalar(deps.render(spec.sql), deps.signal)) ?? null) : typeof spec.value === 'string' ? deps.render(spec.value) : spec.value;
    flags.push({ scope, name, ...(spec.key === undefined ? {} : { key: deps.render(spec.key) }), value: value ?? null });
  }
  return flags;
}
