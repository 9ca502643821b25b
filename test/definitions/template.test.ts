import { describe, expect, it } from 'vitest';
import {
  evaluateCondition,
  findConditionExpressions,
  findTemplateExpressions,
  renderDeep,
  renderTemplate,
  type TemplateContext,
  TemplateError,
} from '../../src/model/template.ts';

const context: TemplateContext = {
  params: { base: 'EUR', full: 'true', count: 3, flag: false },
  interval: { start: '2024-03-01T00:00:00Z', end: '2024-03-01T06:30:00Z' },
  run: { id: 'run-42', date: '2024-03-02', trigger: 'schedule' },
  env: { HOME: '/home/ci' },
  pipeline: { name: 'daily-rates' },
  stage: { name: 'load' },
};

function renderError(template: string): TemplateError {
  try {
    renderTemplate(template, context);
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error(`expected ${template} to fail`);
}

describe('renderTemplate', () => {
  it('leaves text without templates untouched', () => {
    expect(renderTemplate('select 1 -- { not a template }', context)).toBe('select 1 -- { not a template }');
  });

  it('renders paths of every root', () => {
    expect(renderTemplate('{{ params.base }}/{{ run.id }}/{{ env.HOME }}/{{ pipeline.name }}/{{ stage.name }}/{{ run.trigger }}', context)).toBe(
      'EUR/run-42//home/ci/daily-rates/load/schedule',
    );
  });

  it('renders a midnight interval bound as a date and any other bound as the full instant', () => {
    expect(renderTemplate('{{ interval.start }} {{ interval.end }}', context)).toBe('2024-03-01 2024-03-01T06:30:00.000Z');
  });

  it('always gives the full instant for *_iso and the date for *_date', () => {
    expect(renderTemplate('{{ interval.start_iso }} {{ interval.end_date }}', context)).toBe('2024-03-01T00:00:00.000Z 2024-03-01');
  });

  it('renders numbers and booleans with String and objects as JSON', () => {
    const rendered = renderTemplate('{{ params.count }} {{ params.flag }} {{ params.obj }}', { ...context, params: { ...context.params, obj: { a: 1 } } });
    expect(rendered).toBe('3 false {"a":1}');
  });

  it('applies default, upper, lower, date, json and sql filters', () => {
    expect(renderTemplate("{{ params.missing | default('usd') | upper }}", context)).toBe('USD');
    expect(renderTemplate('{{ params.base | lower }}', context)).toBe('eur');
    expect(renderTemplate('{{ interval.end | date }}', context)).toBe('2024-03-01');
    expect(renderTemplate('{{ params.base | json }}', context)).toBe('"EUR"');
    expect(renderTemplate(`{{ "it's" | sql }}`, context)).toBe("'it''s'");
    expect(renderTemplate('{{ null | sql }}', context)).toBe('NULL');
  });

  it('refuses an unset environment variable, naming it, unless a default is given', () => {
    expect(renderError('[{{ env.NOT_SET }}]').message).toContain("environment variable 'NOT_SET' is not set");
    expect(renderTemplate("[{{ env.NOT_SET | default('x') }}]", context)).toBe('[x]');
    expect(() => renderDeep({ headers: { auth: 'Bearer {{ env.NOT_SET }}' } }, context)).toThrow(/^with\.headers\.auth: .*NOT_SET/);
    // In an `if:` condition, unset asks "is it set?": empty, so false.
    expect(evaluateCondition("env.NOT_SET == 'yes'", context)).toBe(false);
    expect(evaluateCondition('env.NOT_SET', context)).toBe(false);
  });

  it('evaluates comparisons, && || ! and parentheses', () => {
    expect(renderTemplate("{{ params.count >= 3 && (params.base == 'EUR' || false) }}", context)).toBe('true');
    expect(renderTemplate('{{ !params.flag }}', context)).toBe('true');
    expect(renderTemplate('{{ params.count < 10 }}', context)).toBe('true');
    expect(renderTemplate("{{ params.base != 'EUR' }}", context)).toBe('false');
  });

  it('throws with the offset of the path when a param has no value', () => {
    const error = renderError('x {{ params.nope }}');
    expect(error.offset).toBe(5);
    expect(error.message).toBe(
      "{{ params.nope }}: parameter 'nope' has no value: declare it under params: with a default, pass --param nope=…, or write params.nope | default('…')",
    );
  });

  it('throws on an unknown root, naming the roots that exist', () => {
    const error = renderError('{{ parms.base }}');
    expect(error.offset).toBe(3);
    expect(error.message).toBe("{{ parms.base }}: unknown name 'parms': templates can use params, env, interval, run, pipeline, stage, stages, watermark");
  });

  it('throws on syntax errors with the offset of the bad token', () => {
    expect(renderError('ab {{ params.base == }}').offset).toBe(21);
    expect(renderError('{{ params.base | shout }}').offset).toBe(17);
    expect(renderError('abc {{ params.base').offset).toBe(4);
    expect(renderError('{{ }}').message).toBe('{{ }}: expected an expression inside {{ }}, found the end of the expression');
  });

  it('throws when a filter gets the wrong number of arguments', () => {
    expect(renderError('{{ params.base | default }}').message).toContain("filter 'default' takes 1 argument");
  });
});

describe('evaluateCondition', () => {
  it('treats a string without {{ as one whole expression', () => {
    expect(evaluateCondition('params.full == true', context)).toBe(true);
    expect(evaluateCondition('params.count > 5', context)).toBe(false);
  });

  it('reads "", false, 0, no, off and null as false', () => {
    for (const word of ['', 'false', '0', 'no', 'off', 'null', 'FALSE']) {
      expect(evaluateCondition(`{{ '${word}' }}`, context)).toBe(false);
    }
    expect(evaluateCondition("{{ 'yes' }}", context)).toBe(true);
  });
});

describe('renderDeep', () => {
  it('renders every string inside nested objects and arrays and keeps other values', () => {
    const config = { url: 'https://x/{{ params.base }}', pages: 3, headers: [{ day: '{{ interval.start }}' }], on: true };
    expect(renderDeep(config, context)).toEqual({ url: 'https://x/EUR', pages: 3, headers: [{ day: '2024-03-01' }], on: true });
  });
});

describe('findTemplateExpressions', () => {
  it('lists each expression with its offset and the paths it reads', () => {
    expect(findTemplateExpressions("a {{ params.x | default(params.y) }} b {{ interval.start }}")).toEqual([
      { source: '{{ params.x | default(params.y) }}', offset: 2, paths: [['params', 'x'], ['params', 'y']] },
      { source: '{{ interval.start }}', offset: 39, paths: [['interval', 'start']] },
    ]);
  });

  it('reports a syntax error with the offset of the bad token instead of throwing', () => {
    expect(findTemplateExpressions('ab {{ 1 + 2 }}')).toEqual([
      { source: '{{ 1 + 2 }}', offset: 3, paths: [], error: "unexpected character '+'", errorOffset: 8 },
    ]);
  });

  it('maps condition offsets back to the condition as written', () => {
    const [found] = findConditionExpressions('params.a ==');
    expect(found.errorOffset).toBe(11);
    expect(findConditionExpressions('params.a == 1')[0].paths).toEqual([['params', 'a']]);
  });
});

describe('stages root', () => {
  const withStages: TemplateContext = {
    ...context,
    stages: { load: { status: 'succeeded', rows: 0, table: 'load', outputs: { new_files: 2, info: { pages: 3 } } }, skipped: { status: 'skipped' } },
  };

  it('reads what an upstream stage produced', () => {
    expect(evaluateCondition('{{ stages.load.rows > 0 }}', withStages)).toBe(false);
    expect(evaluateCondition('stages.load.rows == 0', withStages)).toBe(true);
    expect(renderTemplate('{{ stages.load.outputs.new_files }}/{{ stages.load.outputs.info.pages }}', withStages)).toBe('2/3');
    expect(renderTemplate('{{ stages.load.status }}', withStages)).toBe('succeeded');
  });

  it('refuses a fact a stage does not have, unless a default is given', () => {
    expect(() => renderTemplate('{{ stages.skipped.rows }}', withStages)).toThrow(/stage 'skipped' has no rows \(its status is skipped\)/);
    expect(renderTemplate("{{ stages.skipped.rows | default('0') }}", withStages)).toBe('0');
    expect(() => renderTemplate('{{ stages.later.rows }}', withStages)).toThrow(/stage 'later' has not run in this run/);
    expect(() => renderTemplate('{{ stages.load.size }}', withStages)).toThrow(/needs one of stages.load.status/);
  });
});
