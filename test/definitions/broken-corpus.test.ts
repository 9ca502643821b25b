/**
 * Every file in test/fixtures/broken has its exact diagnostics in a sibling *.expected.json;
 * every file in test/fixtures/valid must load without errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineFile } from '../../src/definitions/load-pipeline.ts';
import { fakeStageKinds } from './fake-kinds.ts';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures');

function pipelineFiles(folder: string): string[] {
  return readdirSync(path.join(FIXTURES, folder)).filter((name) => name.endsWith('.yml')).sort();
}

async function load(folder: string, file: string) {
  return loadPipelineFile(file, { root: path.join(FIXTURES, folder), kinds: fakeStageKinds() });
}

describe('broken pipeline corpus', () => {
  it('has at least 25 fixtures, each with its expected diagnostics', () => {
    const files = pipelineFiles('broken');
    expect(files.length).toBeGreaterThanOrEqual(25);
    for (const file of files) expect(readdirSync(path.join(FIXTURES, 'broken'))).toContain(file.replace(/\.yml$/, '.expected.json'));
  });

  it.each(pipelineFiles('broken'))('reports exactly the expected diagnostics for %s', async (file) => {
    const result = await load('broken', file);
    const expected = JSON.parse(readFileSync(path.join(FIXTURES, 'broken', file.replace(/\.yml$/, '.expected.json')), 'utf8'));
    const actual = result.diagnostics.map(({ code, severity, line, column, message }) => ({ code, severity, line, column, message }));
    expect(actual).toEqual(expected);
  });
});

describe('valid pipeline corpus', () => {
  it.each(pipelineFiles('valid'))('loads %s without errors', async (file) => {
    const result = await load('valid', file);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.pipeline?.file).toBe(file);
  });
});
