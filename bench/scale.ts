/**
 * Scale: validate and plan a generated 10,000-stage pipeline (a wide fan-out of chains, every
 * stage with a needs list, a with block, checks and templates). Baseline in the same run: parsing
 * the same YAML text with the yaml library alone, keeping positions as weir does: the floor for any
 * YAML tool that reports line and column.
 */
import { LineCounter, parseDocument } from 'yaml';
import { createPlan } from '../src/planner/plan.ts';
import { loadPipelineSource } from '../src/definitions/load-pipeline.ts';
import { defaultStageKinds } from '../src/stages/registry.ts';
import { markdownTable, measure, measureInTurns, ms, round, type Suite, removeProject, tempProject, timeProcess, WEIR } from './lib.ts';

export function bigPipeline(stages: number): string {
  const lines = ['name: big', 'params:', '  day: { type: date, default: "2026-11-01" }', 'stages:'];
  for (let i = 0; i < stages; i++) {
    lines.push(`  s${i}:`, '    uses: sql');
    if (i >= 100) lines.push(`    needs: [s${i - 100}${i % 7 === 0 ? `, s${i - 99}` : ''}]`);
    lines.push(`    with: { query: "select '{{ params.day }}' as day, ${i} as n" }`);
    if (i % 10 === 0) lines.push('    checks: [ { not_null: [n] }, { row_count: { min: 1 } } ]');
  }
  return `${lines.join('\n')}\n`;
}

function timeIt(work: () => void): number {
  const started = process.hrtime.bigint();
  work();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function benchScale(runs = 5) {
  const source = bigPipeline(10_000);
  const kinds = defaultStageKinds();
  // The same parse weir does: positions kept, duplicate keys found by weir's own linear pass
  // (the library's uniqueKeys check compares every pair of keys: quadratic on a 10,000-key map).
  const { parseOnly, validatePlan } = measureInTurns(runs, 1, {
    parseOnly: () => timeIt(() => parseDocument(source, { lineCounter: new LineCounter(), uniqueKeys: false, prettyErrors: false })),
    validatePlan: () =>
      timeIt(() => {
        const { pipeline, diagnostics } = loadPipelineSource(source, 'pipelines/big.yml', { kinds, fileExists: () => true });
        if (!pipeline || diagnostics.some((d) => d.severity === 'error')) throw new Error(`big pipeline invalid: ${JSON.stringify(diagnostics[0])}`);
        createPlan(pipeline.spec);
      }),
  });
  const project = tempProject({ 'pipelines/big.yml': source });
  try {
    const cli = measure(3, 1, () => timeProcess([WEIR, 'plan', 'big', '--json'], project)).median;
    return {
      stages: 10_000,
      yamlBytes: Buffer.byteLength(source),
      yamlParseMs: round(parseOnly),
      validateAndPlanMs: round(validatePlan),
      ratioVsYamlParse: round(validatePlan / parseOnly, 2),
      cliPlanProcessMs: round(cli),
    };
  } finally {
    removeProject(project);
  }
}

type ScaleResult = ReturnType<typeof benchScale>;

function scaleTable(r: ScaleResult): string {
  return markdownTable(
    ['Measure', 'Result', 'Target'],
    [
      [`validate + plan of ${r.stages.toLocaleString('en-US')} stages (${round(r.yamlBytes / 1e6, 2)} MB of YAML), in process`, `**${ms(r.validateAndPlanMs)}**`, '< 1 s'],
      ['`yaml` parse alone, keeping positions (baseline, same run)', ms(r.yamlParseMs), ''],
      ['ratio validate + plan / parse', `${r.ratioVsYamlParse}`, ''],
      [`\`weir plan big --json\`, whole process, ${r.stages.toLocaleString('en-US')}-stage JSON printed`, ms(r.cliPlanProcessMs), ''],
    ],
  );
}

export const scale: Suite<ScaleResult> = { run: () => benchScale(), table: scaleTable };
