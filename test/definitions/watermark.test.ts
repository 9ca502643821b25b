/**
 * `{{ watermark.<stage> }}`: what it renders (the saved value, or the default on a first run), and
 * what validation says about a template naming a stage that saves no watermark.
 */
import { describe, expect, it } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { renderTemplate, type TemplateContext } from '../../src/model/template.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';

const context = (watermark: Record<string, string>): TemplateContext => ({
  params: {},
  interval: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z' },
  run: { id: 'r1', date: '2026-01-01', trigger: 'manual' },
  env: {},
  pipeline: { name: 'p' },
  watermark,
});

describe('rendering watermark.<stage>', () => {
  it('renders the saved value, and the default when the stage has saved none yet', () => {
    const template = "where updated_at > '{{ watermark.orders | default('1970-01-01') }}'";
    expect(renderTemplate(template, context({ orders: '2026-01-01 07:00:00' }))).toBe("where updated_at > '2026-01-01 07:00:00'");
    expect(renderTemplate(template, context({}))).toBe("where updated_at > '1970-01-01'");
  });

  it('says how to give a first run a value when there is no default', () => {
    expect(() => renderTemplate('{{ watermark.orders }}', context({}))).toThrow(
      "{{ watermark.orders }}: stage 'orders' has saved no watermark yet (no succeeded run has saved one): write watermark.orders | default('1970-01-01') for the first run",
    );
  });
});

const diagnose = (source: string) =>
  loadPipelineSource(source, 'p.yml', { kinds: defaultStageKinds(), fileExists: () => true }).diagnostics.map(({ code, line, column, message }) => ({ code, line, column, message }));

const ORDERS = `  orders:
    uses: sql
    with:
      query: "select * from src where updated_at > '{{ watermark.orders | default('1970-01-01') }}'"
      watermark: { column: updated_at }
`;

describe('validating watermark references', () => {
  it('accepts a stage reading its own watermark, and another stage reading it without needing it', () => {
    const source = `name: p\nstages:\n${ORDERS}  report:\n    uses: sql\n    with: { query: "select '{{ watermark.orders | default('none') }}' as since" }\n`;
    expect(diagnose(source)).toEqual([]);
  });

  it('names an unknown stage, with the stages that save one', () => {
    const source = `name: p\nstages:\n${ORDERS}  report:\n    uses: sql\n    with: { query: "select '{{ watermark.order }}' as since" }\n`;
    expect(diagnose(source)).toEqual([
      { code: 'WEIR509', line: 10, column: 29, message: "template {{ watermark.order }} reads the watermark of stage 'order', which is not defined (did you mean 'orders'?)" },
    ]);
  });

  it('needs a field, and refuses a watermark on a sql script that creates no table', () => {
    const source = `name: p\nstages:\n  s:\n    uses: sql\n    with:\n      query: "select '{{ watermark }}'"\n      materialize: none\n      watermark: { column: x }\n`;
    expect(diagnose(source).map((d) => `${d.code} ${d.line}:${d.column} ${d.message}`)).toEqual([
      "WEIR503 6:23 template {{ watermark }}: 'watermark' needs a field, e.g. watermark.<stage>",
      'WEIR302 8:18 stages.s.with.watermark: a watermark is read from the table the stage creates, and materialize: none creates none: use materialize: table (or view), or remove watermark',
    ]);
  });

  it('checks watermark references in a referenced SQL file, reported at the reference', () => {
    const source = `name: p\nstages:\n${ORDERS}  recent:\n    uses: sql\n    with: { query: sql/recent.sql }\n`;
    const sql: Record<string, string> = { 'sql/recent.sql': "select * from orders where updated_at > '{{ watermark.recent | default('1970-01-01') }}'" };
    const diagnostics = loadPipelineSource(source, 'p.yml', { kinds: defaultStageKinds(), fileExists: (f) => f in sql, readFile: (f) => sql[f] }).diagnostics;
    expect(diagnostics.map(({ code, line, column, message }) => ({ code, line, column, message }))).toEqual([
      {
        code: 'WEIR509',
        line: 10,
        column: 20,
        message: "template {{ watermark.recent | default('1970-01-01') }} in sql/recent.sql reads the watermark of stage 'recent', which saves none: add watermark: { column: <column> } to the with: of 'recent' (a sql stage), or read a stage that saves one",
      },
    ]);
  });
});
