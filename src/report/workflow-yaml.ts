/**
 * A generated workflow document as YAML text: the header comment, the comments that explain a
 * converted cron or the concurrency group, and each pinned action's tag after its SHA. Rendered
 * with the `yaml` library, so quoting is always right; the output is stable (same input, same
 * bytes), which is what `weir compile --check` compares.
 */
import { Document, isMap, isScalar, visit } from 'yaml';
import type { WorkflowDocument } from '../use-cases/compile-workflows.ts';

/** Long `run:` lines and descriptions stay on one line: folding would make diffs noisy. */
const NO_LINE_WRAP = 0;

export function renderWorkflowYaml(workflow: WorkflowDocument): string {
  const doc = new Document(workflow.document);
  doc.commentBefore = workflow.header.map((line) => ` ${line}`).join('\n');
  for (const comment of workflow.comments) commentKey(doc, comment.path, comment.text);
  const tags = new Map(workflow.pins.map((pin) => [`${pin.repo}@${pin.sha}`, pin.tag]));
  visit(doc, {
    Pair(_, pair) {
      // Crons are quoted as in GitHub's docs: `*/15 …` would otherwise read as an alias to some eyes.
      if (isScalar(pair.key) && pair.key.value === 'cron' && isScalar(pair.value)) pair.value.type = 'QUOTE_DOUBLE';
      if (isScalar(pair.key) && pair.key.value === 'uses' && isScalar(pair.value)) {
        const tag = tags.get(String(pair.value.value));
        if (tag) pair.value.comment = ` ${tag}`;
      }
    },
    Map(_, map) {
      // `with: {}`-style flow maps read worse in a workflow than blocks; keep every map a block.
      // An empty map (`permissions: {}`) can only be written as a flow map.
      if (isMap(map)) map.flow = map.items.length === 0;
    },
  });
  // Top-level sections read better apart.
  if (isMap(doc.contents)) for (const pair of doc.contents.items.slice(1)) if (isScalar(pair.key)) pair.key.spaceBefore = true;
  return doc.toString({ lineWidth: NO_LINE_WRAP, nullStr: '' });
}

/** A comment line above the key at `path` (above the value, GitHub's editor would hide it). */
function commentKey(doc: Document, path: readonly (string | number)[], text: string): void {
  const parent = path.length > 1 ? doc.getIn(path.slice(0, -1), true) : doc.contents;
  if (!isMap(parent)) return;
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1));
  if (pair && isScalar(pair.key)) pair.key.commentBefore = text;
}
