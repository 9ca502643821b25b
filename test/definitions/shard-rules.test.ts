import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type LoadOptions, loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import type { AnyStageKind } from '../../src/stages/registry.ts';
import { fakeStageKinds } from './fake-kinds.ts';

/** The fake kinds, with a command that leaves a table when `with.output` is set (as the real one will). */
function kindsWithOutputCommand(): LoadOptions['kinds'] {
  const kinds = new Map(fakeStageKinds());
  const command = kinds.get('command')!;
  kinds.set('command', {
    ...command,
    with: z.strictObject({ run: z.string().min(1), output: z.string().optional() }),
    producesTable: (config: { output?: unknown }) => typeof config.output === 'string',
    // Through unknown: StageKind.producesTable is still a boolean until the command kind reads with.output.
  } as unknown as AnyStageKind);
  return kinds;
}

function diagnose(source: string, kinds: LoadOptions['kinds'] = fakeStageKinds()) {
  return loadPipelineSource(source, 'p.yml', { kinds, fileExists: () => true }).diagnostics.map(({ code, line, column, message }) => ({ code, line, column, message }));
}

const head = 'name: p\nstages:\n  a: { uses: sql, with: { query: select 1 } }\n';

describe('shard rules', () => {
  it('accepts a sharded stage over the one table it needs, and over a table further upstream named by shard_table', () => {
    expect(diagnose(`${head}  b: { uses: sql, needs: [a], shards: 2, with: { query: select 1 } }\n`)).toEqual([]);
    expect(diagnose(`${head}  b: { uses: sql, needs: [a], with: { query: select 1 } }\n  c: { uses: sql, needs: [b], shards: 2, shard_table: a, with: { query: select 1 } }\n`)).toEqual([]);
  });

  it('counts a command stage as an input table when its with block says it leaves one', () => {
    const source = `${head}  run: { uses: command, needs: [a], with: { run: python x.py, output: out.parquet } }\n  b: { uses: sql, needs: [run], shards: 2, with: { query: select 1 } }\n`;
    expect(diagnose(source, kindsWithOutputCommand())).toEqual([]);
    expect(diagnose(source.replace(', output: out.parquet', ''), kindsWithOutputCommand())).toEqual([
      { code: 'WEIR309', line: 5, column: 33, message: "stage 'b' has shards but none of the stages it needs produces a table to partition: add the stage whose table it reads to its needs" },
    ]);
  });

  it('allows checks on a command stage only when its with block says it leaves a table', () => {
    const source = `${head}  run: { uses: command, needs: [a], with: { run: python x.py, output: out.parquet }, checks: [{ row_count: { min: 1 } }] }\n`;
    expect(diagnose(source, kindsWithOutputCommand())).toEqual([]);
    expect(diagnose(source.replace(', output: out.parquet', ''), kindsWithOutputCommand()).map((d) => d.code)).toEqual(['WEIR304']);
  });

  it('rejects shards below 2 as the schema does, and a non-number without a second message', () => {
    expect(diagnose(`${head}  b: { uses: sql, needs: [a], shards: 1, with: { query: select 1 } }\n`).map((d) => d.message)).toEqual(['stages.b.shards must be at least 2, got the number 1']);
    expect(diagnose(`${head}  b: { uses: sql, needs: [a], shards: many, with: { query: select 1 } }\n`).map((d) => d.code)).toEqual(['WEIR101']);
  });
});
