import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { NotAJsonArrayError, splitJsonArray } from '../../src/stages/json-array-split.ts';

function files(content: string) {
  const dir = mkdtempSync(join(tmpdir(), 'weir-split-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in.json');
  writeFileSync(input, content);
  return { input, output: join(dir, 'out.ndjson') };
}

describe('splitJsonArray', () => {
  it('writes each object on its own line, hands the other elements over with their index', async () => {
    const { input, output } = files(' [ {"a": 1, "s": "x, ] } \\" y"},\n  "oops", 42, null, [1, {"b": 2}],\n {"nested": {"list": [1, 2], "t": "é"}} ]\n');
    const others: [unknown, number][] = [];
    const result = await splitJsonArray(input, output, (value, index) => others.push([value, index]));
    expect(result).toEqual({ objects: 2, others: 4 });
    expect(readFileSync(output, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line))).toEqual([
      { a: 1, s: 'x, ] } " y' },
      { nested: { list: [1, 2], t: 'é' } },
    ]);
    expect(others).toEqual([['oops', 2], [42, 3], [null, 4], [[1, { b: 2 }], 5]]);
  });

  it('handles elements, strings and escapes cut across read chunks', async () => {
    // 100,000 records of ~60 bytes: several 64 KiB chunks, boundaries falling anywhere.
    const records = Array.from({ length: 100_000 }, (_, i) => ({ id: i, text: `line "${i}" \\ with, [brackets] {and} braces` }));
    const { input, output } = files(JSON.stringify(records, null, 1));
    expect(await splitJsonArray(input, output, () => {})).toEqual({ objects: 100_000, others: 0 });
    const lines = readFileSync(output, 'utf8').trimEnd().split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(records);
  });

  it('refuses what is not one JSON array', async () => {
    await expect(splitJsonArray(files('{"items": []}').input, files('').output, () => {})).rejects.toBeInstanceOf(NotAJsonArrayError);
    await expect(splitJsonArray(files('[{"a": 1}, {"b"').input, files('').output, () => {})).rejects.toThrow('never closed');
    await expect(splitJsonArray(files('[1] [2]').input, files('').output, () => {})).rejects.toThrow('after the closing');
  });
});
