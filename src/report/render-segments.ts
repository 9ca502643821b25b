/**
 * `weir plan --segments` as text and as a Mermaid flowchart: the jobs the generated workflow runs
 * (one per segment, one per shard of a sharded one) and the tables handed between them. Pure.
 */
import type { Plan } from '../planner/plan.ts';
import { DEFAULT_RUNNER_LABEL, type Segment, type SegmentTable } from '../planner/segments.ts';

/** One block per segment: runner, stages, the segments it needs, the tables it is handed and hands on, shards. */
export function renderSegments(plan: Plan, segments: readonly Segment[]): string {
  const jobs = segments.reduce((n, s) => n + (s.shards?.count ?? 1), 0);
  const lines = [
    `${plan.pipeline}: ${plan.stages.length} stage${plural(plan.stages.length)} in ${segments.length} segment${plural(segments.length)}, ${jobs} job${plural(jobs)} in the generated workflow (weir run runs them all in one process)`,
  ];
  const selected = new Set(plan.stages.filter((s) => s.selected).map((s) => s.name));
  for (const segment of segments) {
    lines.push('', `segment ${segment.id}`);
    lines.push(`  runs-on:  ${runsOnText(segment)}`);
    if (segment.shards) {
      const { count, by, table } = segment.shards;
      lines.push(`  shards:   ${count} jobs, each over a part of ${table} (${by ? `hash of ${by}` : 'row number'})`);
    }
    lines.push(`  stages:   ${segment.stages.map((name) => (selected.has(name) ? name : `${name} (not selected)`)).join(', ')}`);
    lines.push(`  needs:    ${segment.needs.join(', ') || '-'}`);
    lines.push(`  inputs:   ${segment.inputs.map((t) => `${tableText(t)} from ${t.segment}`).join(', ') || '-'}`);
    lines.push(`  outputs:  ${segment.outputs.map(tableText).join(', ') || '-'}`);
  }
  return lines.join('\n');
}

/** The DAG with one subgraph per segment (renders in GitHub Markdown and job summaries). */
export function renderSegmentsMermaid(plan: Plan, segments: readonly Segment[]): string {
  // Ids by position: names such as a-b and a_b would collide once made Mermaid-safe.
  const nodeId = new Map(plan.stages.map((s, i) => [s.name, `s${i}`]));
  const byName = new Map(plan.stages.map((s) => [s.name, s]));
  const lines = ['flowchart LR'];
  segments.forEach((segment, i) => {
    const shards = segment.shards ? ` · ${segment.shards.count} shards` : '';
    lines.push(`  subgraph g${i}["${escape(`${segment.id} · ${runsOnText(segment)}${shards}`)}"]`);
    for (const name of segment.stages) lines.push(`    ${nodeId.get(name)}["${escape(name)}<br/><small>${escape(byName.get(name)!.uses)}</small>"]`);
    lines.push('  end');
  });
  for (const stage of plan.stages) for (const need of stage.needs) lines.push(`  ${nodeId.get(need)} --> ${nodeId.get(stage.name)}`);
  return lines.join('\n');
}

function runsOnText(segment: Segment): string {
  return segment.runnerLabels.length ? segment.runnerLabels.join(', ') : `${DEFAULT_RUNNER_LABEL} (default)`;
}

function tableText(table: SegmentTable): string {
  return table.table === table.stage ? table.table : `${table.table} (stage ${table.stage})`;
}

function escape(text: string): string {
  return text.replaceAll('"', '#quot;');
}

function plural(n: number): string {
  return n === 1 ? '' : 's';
}
