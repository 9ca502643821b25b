/** Turns `--param k=v` strings into typed values per the pipeline's `params` declarations. */
import { ConfigError } from '../model/errors.ts';
import type { Param, PipelineSpec } from '../model/pipeline.ts';
import { suggest } from '../model/did-you-mean.ts';

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

function coerce(where: string, name: string, raw: string | number | boolean, param: Param): string | number | boolean {
  const text = String(raw).trim();
  const fail = (expected: string): never => {
    throw new ConfigError(`${where}: param '${name}' must be ${expected}, got '${text}'`);
  };
  switch (param.type) {
    case 'string':
      return String(raw);
    case 'number': {
      const value = Number(text);
      return text !== '' && Number.isFinite(value) ? value : fail('a number');
    }
    case 'integer': {
      const value = Number(text);
      return /^-?\d+$/.test(text) && Number.isSafeInteger(value) ? value : fail('an integer');
    }
    case 'boolean':
      return TRUE.has(text.toLowerCase()) ? true : FALSE.has(text.toLowerCase()) ? false : fail('true or false');
    case 'date':
      return /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(`${text}T00:00:00Z`)) && new Date(`${text}T00:00:00Z`).toISOString().startsWith(text)
        ? text
        : fail('a date (YYYY-MM-DD)');
    case 'choice': {
      const match = param.options?.find((option) => String(option) === text);
      return match ?? fail(`one of ${param.options?.join(', ')}`);
    }
    default: {
      const unknown: never = param.type;
      return unknown;
    }
  }
}

/**
 * Resolves the values of every declared param: given, else default, else an error if required.
 * Throws ConfigError naming the pipeline (and its `file` when given), the param and the fix;
 * nothing has run or been written at that point.
 */
export function resolveParams(spec: PipelineSpec, given: Readonly<Record<string, string>>, file?: string): Record<string, string | number | boolean> {
  const declared = spec.params ?? {};
  const where = `pipeline '${spec.name}'${file ? ` (${file})` : ''}`;
  for (const name of Object.keys(given)) {
    if (!(name in declared)) {
      const hint = suggest(name, Object.keys(declared));
      const known = Object.keys(declared).length ? `declared params: ${Object.keys(declared).join(', ')}` : 'it declares none';
      throw new ConfigError(`${where} has no param '${name}'${hint ? ` (did you mean '${hint}'?)` : ''}; ${known}`);
    }
  }
  const values: Record<string, string | number | boolean> = {};
  for (const [name, param] of Object.entries(declared)) {
    if (name in given) values[name] = coerce(where, name, given[name], param);
    else if (param.default !== undefined) values[name] = coerce(where, name, param.default, param);
    else if (param.required) throw new ConfigError(`${where}: param '${name}' is required: pass --param ${name}=<value>`);
  }
  return values;
}

/** Parses `k=v` pairs from the command line. */
export function parseParamPairs(pairs: readonly string[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--param '${pair}' is not in the form name=value`);
    values[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  return values;
}
