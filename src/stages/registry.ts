/** The stage kinds weir knows, by `uses:` name. */
import type { StageKind } from './stage-kind.ts';
import { commandStage } from './command.ts';
import { exportStage } from './export.ts';
import { filesStage } from './files.ts';
import { gateStage } from './gate.ts';
import { httpStage } from './http.ts';
import { loadStage } from './load.ts';
import { reportStage } from './report.ts';
import { sqlStage } from './sql.ts';

// biome-ignore lint: the registry holds kinds of every `with` shape.
export type AnyStageKind = StageKind<any>;
export type StageKindRegistry = ReadonlyMap<string, AnyStageKind>;

export function defaultStageKinds(): StageKindRegistry {
  const kinds: AnyStageKind[] = [sqlStage, httpStage, filesStage, exportStage, loadStage, commandStage, reportStage, gateStage];
  return new Map(kinds.map((kind) => [kind.name, kind]));
}
