import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/model/errors.ts';
import { Pipeline } from '../../src/model/pipeline.ts';
import { parseParamPairs, resolveParams } from '../../src/use-cases/params.ts';
import { defaultInterval, parseIntervalOption } from '../../src/planner/interval.ts';

const spec = Pipeline.parse({
  name: 'p',
  params: {
    base: { type: 'string', default: 'EUR' },
    limit: { type: 'integer', default: 10 },
    ratio: { type: 'number' },
    full: { type: 'boolean', default: false },
    day: { type: 'date' },
    env: { type: 'choice', options: ['dev', 'prod'], default: 'dev' },
    token: { type: 'string', required: true },
  },
  stages: { a: { uses: 'sql' } },
});

describe('resolveParams', () => {
  it('coerces given values to their declared types and fills defaults', () => {
    expect(resolveParams(spec, { token: 't', limit: '25', full: 'yes', ratio: '0.5', day: '2026-02-28', env: 'prod' })).toEqual({
      base: 'EUR',
      limit: 25,
      full: true,
      ratio: 0.5,
      day: '2026-02-28',
      env: 'prod',
      token: 't',
    });
  });

  it.each([
    [{ token: 't', limit: '2.5' }, "param 'limit' must be an integer, got '2.5'"],
    [{ token: 't', ratio: 'abc' }, "param 'ratio' must be a number, got 'abc'"],
    [{ token: 't', full: 'maybe' }, "param 'full' must be true or false, got 'maybe'"],
    [{ token: 't', day: '2026-02-30' }, "param 'day' must be a date (YYYY-MM-DD), got '2026-02-30'"],
    [{ token: 't', env: 'staging' }, "param 'env' must be one of dev, prod, got 'staging'"],
    [{}, "param 'token' is required: pass --param token=<value>"],
    [{ token: 't', limt: '3' }, "pipeline 'p' has no param 'limt' (did you mean 'limit'?)"],
  ])('refuses %j with a message naming the param', (given, message) => {
    expect(() => resolveParams(spec, given)).toThrow(ConfigError);
    expect(() => resolveParams(spec, given)).toThrow(message);
  });

  it('names the pipeline, and its file when known, in every param error', () => {
    expect(() => resolveParams(spec, { token: 't', limit: 'x' }, 'pipelines/p.yml')).toThrow("pipeline 'p' (pipelines/p.yml): param 'limit' must be an integer, got 'x'");
    expect(() => resolveParams(spec, {}, 'pipelines/p.yml')).toThrow("pipeline 'p' (pipelines/p.yml): param 'token' is required");
    expect(() => resolveParams(spec, { token: 't', limt: '3' }, 'pipelines/p.yml')).toThrow("pipeline 'p' (pipelines/p.yml) has no param 'limt'");
    expect(() => resolveParams(spec, { token: 't', full: 'maybe' })).toThrow("pipeline 'p': param 'full' must be true or false");
  });

  it('parses name=value pairs, keeping = inside values', () => {
    expect(parseParamPairs(['a=1', 'q=x=y'])).toEqual({ a: '1', q: 'x=y' });
    expect(() => parseParamPairs(['novalue'])).toThrow(/name=value/);
  });
});

describe('intervals', () => {
  it('covers the last complete UTC day for an unscheduled pipeline', () => {
    expect(defaultInterval(spec, new Date('2026-11-22T10:30:00Z'))).toEqual({ start: '2026-11-21T00:00:00.000Z', end: '2026-11-22T00:00:00.000Z' });
  });

  it('covers the last complete schedule interval for a scheduled pipeline', () => {
    const daily = Pipeline.parse({ name: 'd', schedule: { cron: '17 6 * * *' }, stages: { a: { uses: 'sql' } } });
    expect(defaultInterval(daily, new Date('2026-11-22T10:30:00Z'))).toEqual({ start: '2026-11-21T06:17:00.000Z', end: '2026-11-22T06:17:00.000Z' });
  });

  it('parses a single day and an explicit range, refusing a reversed one', () => {
    expect(parseIntervalOption('2026-11-01')).toEqual({ start: '2026-11-01T00:00:00.000Z', end: '2026-11-02T00:00:00.000Z' });
    expect(parseIntervalOption('2026-11-01..2026-11-08')).toEqual({ start: '2026-11-01T00:00:00.000Z', end: '2026-11-08T00:00:00.000Z' });
    expect(() => parseIntervalOption('2026-11-08..2026-11-01')).toThrow(/ends before it starts/);
    expect(() => parseIntervalOption('yesterday')).toThrow(/not a date/);
  });
});
