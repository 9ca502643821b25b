/** The stage kinds weir knows, by `uses:` name. */
import type { StageKind } from './stage-kind.ts';
import { sqlStage } from './sql.ts';

// biome-ignore lint: the registry holds kinds of every `with` shape.
export type AnyStageKind = StageKind<any>;
export type StageKindRegistry = ReadonlyMap<string, AnyStageKind>;

export function defaultStageKinds(): StageKindRegistry {
  const kinds: AnyStageKind[] = [sqlStage];
  return new Map(kinds.map((kind) => [kind.name, kind]));
}
