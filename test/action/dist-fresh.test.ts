import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempFolder } from './bundle-runner.ts';

const REPO = resolve(import.meta.dirname, '..', '..');

/** Source files that import a package matching `pattern` (`@actions/`), relative to the repository. */
function filesImporting(dir: string, pattern: string): string[] {
  const imports = new RegExp(`from '${pattern}|import\\('${pattern}`);
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .filter((file) => imports.test(readFileSync(file, 'utf8')))
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

  it('holds no native binding; the core imports no @actions/* package, and only the GitHub adapter imports @actions/core', () => {
    expect(readdirSync(join(REPO, 'dist')).filter((name) => name.endsWith('.node'))).toEqual([]);
    expect(filesImporting(join(REPO, 'src'), '@actions/').filter((file) => !/^src\/(adapters\/|entrypoints\/action)/.test(file))).toEqual([]);
    expect(filesImporting(join(REPO, 'src'), '@actions/core')).toEqual(['src/adapters/github-actions.ts']);
  });
});
