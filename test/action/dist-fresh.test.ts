import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempFolder } from './bundle-runner.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

/** Source files that import `@actions/*`: only the adapter and the Action's entry files may. */
function filesImportingActions(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => /from '@actions\/|import\('@actions\//.test(readFileSync(file, 'utf8')))
    .map((file) => file.slice(REPO.length + 1));
}

describe('dist/', () => {
  it('is what a fresh build of the Action makes, byte for byte (run npm run build:action and commit dist/ when this fails)', async () => {
    const out = tempFolder();
    // In its own process, as `npm run build:action` runs it: esbuild's service process ends with it.
    execFileSync(join(REPO, 'node_modules', '.bin', 'node'), [join(REPO, 'scripts', 'build-action.ts'), join(out, 'index.js')]);
    const built = readdirSync(out).sort();
    expect(readdirSync(join(REPO, 'dist')).sort()).toEqual(built);
    for (const name of built) {
      const fresh = readFileSync(join(out, name));
      const committed = readFileSync(join(REPO, 'dist', name));
      expect(committed.equals(fresh), `dist/${name} is stale: run 'npm run build:action' and commit dist/`).toBe(true);
    }
  });

  it('holds no native binding, and only the GitHub adapter and the Action entry files import @actions/*', () => {
    expect(readdirSync(join(REPO, 'dist')).filter((name) => name.endsWith('.node'))).toEqual([]);
    expect(filesImportingActions(join(REPO, 'src')).sort()).toEqual(['src/adapters/github-actions.ts']);
  });
});
