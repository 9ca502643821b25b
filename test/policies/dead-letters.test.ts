import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageFailedError } from '../../src/model/errors.ts';
import { assertDeadLetterRatio, DeadLetterSink } from '../../src/policies/dead-letters.ts';

let runDir: string;
beforeEach(async () => void (runDir = await mkdtemp(join(tmpdir(), 'weir-dead-letters-'))));
afterEach(async () => rm(runDir, { recursive: true, force: true }));

describe('DeadLetterSink', () => {
  it('writes one JSON line per dead letter to <runDir>/dead-letters/<stage>.jsonl', async () => {
    const sink = new DeadLetterSink(runDir, 'load_orders');
    sink.add('{"id": 1,', 'Unexpected end of JSON input', { file: 'data/orders.jsonl', line: 3 });
    sink.add({ id: 'x' }, 'id must be a number', { url: 'https://api.example.com/orders?page=2' });
    expect(sink.count).toBe(2);
    const file = await sink.flush();
    expect(file).toBe(join(runDir, 'dead-letters', 'load_orders.jsonl'));
    const written = (await readFile(file!, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(written).toEqual([
      { record: '{"id": 1,', reason: 'Unexpected end of JSON input', source: { file: 'data/orders.jsonl', line: 3 } },
      { record: { id: 'x' }, reason: 'id must be a number', source: { url: 'https://api.example.com/orders?page=2' } },
    ]);
    expect(sink.count).toBe(0);
  });

  it('writes no file when there is nothing to write', async () => {
    await expect(new DeadLetterSink(runDir, 'clean').flush()).resolves.toBeUndefined();
    await expect(readFile(join(runDir, 'dead-letters', 'clean.jsonl'))).rejects.toThrow(/ENOENT/);
  });
});

describe('assertDeadLetterRatio', () => {
  it('passes at or below the ratio and with no records at all', () => {
    expect(() => assertDeadLetterRatio(1, 100, 0.01)).not.toThrow();
    expect(() => assertDeadLetterRatio(0, 0, 0)).not.toThrow();
    expect(() => assertDeadLetterRatio(0, 10, 0)).not.toThrow();
  });

  it('throws StageFailedError saying how many, the threshold and what to do when above it', () => {
    const check = () => assertDeadLetterRatio(3, 40, 0.05, { stage: 'load', file: 'runs/r1/dead-letters/load.jsonl' });
    expect(check).toThrow(StageFailedError);
    expect(check).toThrow(
      '3 of 40 records (7.5%) went to dead letters, above max_dead_letter_ratio 0.05 (5%); see runs/r1/dead-letters/load.jsonl ' +
        'for the reasons, fix the input or raise max_dead_letter_ratio in the stage policy',
    );
  });
});
