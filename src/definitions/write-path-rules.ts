/**
 * Write-path containment at validate time: every path a stage writes must resolve inside the
 * project root or a folder weir.yml's `allow_write_paths` lists (src/model/write-paths.ts). Stage
 * kinds check again at run time, once templates are rendered.
 */
import type { WritePathResult } from '../model/write-paths.ts';
import { asRecord, report, type RuleContext } from './rule-context.ts';

/**
 * The `with` fields of each stage kind that name a path the stage writes. Dead letters need no
 * entry: they go to `<run folder>/dead-letters/<stage>.jsonl`, and stage names cannot hold `/`.
 */
export const WRITE_PATH_FIELDS: Readonly<Record<string, readonly string[]>> = {
  export: ['path'],
  files: ['archive'],
  load: ['database', 'dataset'],
};

export const WRITE_PATH_CODE = 'WEIR306';

/** A template's value is unknown before the run: judged as one plain path segment. */
const TEMPLATE = /\{\{[\s\S]*?\}\}/g;

/** Reports each write path of `stages` that `checkWritePath` refuses. */
export function checkWritePaths(ctx: RuleContext, stages: Record<string, unknown>, checkWritePath: (relPath: string) => WritePathResult): void {
  for (const [name, raw] of Object.entries(stages)) {
    const stage = asRecord(raw);
    const fields = typeof stage?.uses === 'string' ? WRITE_PATH_FIELDS[stage.uses] : undefined;
    const settings = asRecord(stage?.with);
    if (!fields || !settings) continue;
    for (const field of fields) {
      const written = settings[field];
      if (typeof written !== 'string' || written === '') continue;
      const result = checkWritePath(written.replace(TEMPLATE, 'x'));
      if (result.ok) continue;
      report(
        ctx,
        WRITE_PATH_CODE,
        ['stages', name, 'with', field],
        `stage '${name}' writes to '${written}', but ${result.reason}: write inside the project, or list the folder under allow_write_paths: in weir.yml`,
      );
    }
  }
}
