import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const REPO = resolve(import.meta.dirname, '..', '..');
const ACTION = parse(readFileSync(join(REPO, 'action.yml'), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
  outputs: Record<string, unknown>;
  runs: { using: string; main: string };
  branding: unknown;
};
const DOC = readFileSync(join(REPO, 'docs', 'github-actions.md'), 'utf8');

/** The rows of the first table under `## <heading>`: first cell (backticks dropped), second cell. */
function tableUnder(heading: string): [string, string][] {
  const section = DOC.split(`\n## ${heading}\n`)[1]?.split('\n## ')[0] ?? '';
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split(' | ').map((cell) => cell.replace(/^\| /, '').trim()))
    .map(([name, second]) => [name.replaceAll('`', ''), second.replace(/^`(.*)`$/, '$1')]);
}

describe('docs/github-actions.md against action.yml', () => {
  it('documents every input, and only those, with the default action.yml gives it', () => {
    const documented = Object.fromEntries(tableUnder('Inputs'));
    const declared = Object.fromEntries(Object.entries(ACTION.inputs).map(([name, input]) => [name, input.default === '' ? '""' : String(input.default)]));
    expect(documented).toEqual(declared);
  });

  it('documents every output, and only those', () => {
    expect(tableUnder('Outputs').map(([name]) => name).sort()).toEqual(Object.keys(ACTION.outputs).sort());
  });

  it('runs the committed bundle on node24 and has Marketplace branding', () => {
    expect(ACTION.runs).toEqual({ using: 'node24', main: 'dist/index.js' });
    expect(ACTION.branding).toEqual({ icon: expect.any(String), color: expect.any(String) });
  });
});
