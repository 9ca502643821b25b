/**
 * Reading YAML: the fast plain parse and the positioned parse must agree on every value, and the
 * parser's own failures (alias bombs, deep nesting) come back as diagnostics, never as exceptions.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { describe, expect, it, onTestFinished } from 'vitest';
import { parseYamlSource } from '../../src/definitions/yaml-parse.ts';
import { project, weir } from '../cli/helpers.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');
const fixture = (folder: string, file: string) => readFileSync(path.join(FIXTURES, folder, file), 'utf8');

describe('parseYamlSource', () => {
  const corpus = ['valid', 'broken'].flatMap((folder) => readdirSync(path.join(FIXTURES, folder)).filter((f) => f.endsWith('.yml')).map((f) => [folder, f]));

  it.each(corpus)('gives %s/%s the value (or the refusal) the yaml library gives', (folder, file) => {
    const text = fixture(folder, file);
    const doc = parseDocument(text, { uniqueKeys: false });
    const { source } = parseYamlSource(text, file);
    // A file the yaml library refuses is refused, whichever parser read it first.
    if (doc.errors.length > 0) expect(source).toBeUndefined();
    else if (source) expect(source.value).toEqual(doc.toJS({ maxAliasCount: 1000 }));
  });

  it('reads YAML 1.2 core scalars as the yaml library does', () => {
    const text = [
      'a: [yes, no, on, off, True, FALSE, ~, null, Null, "", 0o17, 0x1F, 017, 1_000, .5, -1.5e3, .inf, -.Inf, .nan, +12]',
      'b: [2026-11-01, 2026-11-01T06:17:00Z, "12", 1e3, 12:30, <<]',
      'c: { "quoted key": 1, 12: twelve, true: yes }',
      'd: |',
      '  line one',
      '  line two',
      'e: >-',
      '  folded',
      '  text',
    ].join('\n');
    const { source } = parseYamlSource(text, 'x.yml');
    expect(source?.value).toEqual(parseDocument(text).toJS());
  });

  it('locates values only when asked, on a file read by the fast path', () => {
    const { source, diagnostics } = parseYamlSource('name: x\nstages:\n  load:\n    needs: [a, b]\n', 'x.yml');
    expect(diagnostics).toEqual([]);
    expect(source?.locate(['stages', 'load', 'needs', 1])).toMatchObject({ line: 4, column: 16 });
    expect(source?.locateKey(['stages', 'load'])).toMatchObject({ line: 3, column: 3 });
  });

  it('refuses a billion-laughs file with WEIR106 at the first alias, and memory stays bounded', () => {
    const before = process.memoryUsage().heapUsed;
    const { source, diagnostics } = parseYamlSource(fixture('broken', 'billion-laughs.yml'), 'lol.yml');
    expect(source).toBeUndefined();
    expect(diagnostics).toMatchObject([{ code: 'WEIR106', line: 4, column: 14 }]);
    // Expanding it would take 10^9 strings; refusing it takes a few kilobytes.
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('refuses nesting deeper than the limit with WEIR106, without overflowing the stack', () => {
    const text = `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`;
    expect(parseYamlSource(text, 'deep.yml').diagnostics).toMatchObject([{ code: 'WEIR106', line: 1 }]);
  });

  it('reports a duplicate key found only by the positioned parse', () => {
    expect(parseYamlSource('a: 1\nb: 2\na: 3\n', 'dup.yml').diagnostics).toMatchObject([{ code: 'WEIR103', line: 3, column: 1 }]);
  });
});

describe('weir validate on files the YAML parser refuses', () => {
  it('exits 2 with one positioned line per file and no stack trace', async () => {
    const dir = project({ 'pipelines/lol.yml': fixture('broken', 'billion-laughs.yml'), 'pipelines/deep.yml': fixture('broken', 'deep-nesting.yml') });
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const result = await weir(dir, ['validate']);
    expect(result.code).toBe(2);
    const output = result.stdout + result.stderr;
    expect(output).toContain('pipelines/lol.yml:4:14: error WEIR106:');
    expect(output).toContain('pipelines/deep.yml:6:80: error WEIR106:');
    expect(output).not.toMatch(/\n\s+at /);
  });
});
