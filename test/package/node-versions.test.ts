import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it, onTestFinished } from 'vitest';
import { REPO } from './install-tarball.ts';

const run = promisify(execFile);
const BIN = join(REPO, 'bin', 'weir.js');
const ENGINES = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).engines.node as string;
/** Node 22, installed by `npm ci` as the `node22` dev dependency (an alias of the `node` package). */
const NODE_22 = join(REPO, 'node_modules', 'node22', 'bin', 'node');
const PROJECT_NODE = join(REPO, 'node_modules', 'node', 'bin', 'node');

function versionOf(node: string): string {
  return execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
}

/** The machine's own Node when it is older than weir supports (Node 20 here and on many laptops). */
function olderSystemNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    try {
      if (Number(versionOf(candidate).slice(1).split('.')[0]) < 22) return candidate;
    } catch {
      // not installed there
    }
  }
  return undefined;
}

function tempProject(): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-node-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'pipelines'));
  writeFileSync(join(dir, 'pipelines', 'hello.yml'), 'name: hello\nstages:\n  one:\n    uses: sql\n    with: { query: select 1 as n }\n');
  return dir;
}

describe('Node versions', () => {
  it('declares Node 22.12 or newer in engines', () => {
    expect(ENGINES).toBe('>=22.12.0');
  });

  it('keeps the project Node on Node 24: the node22 alias does not take over node_modules/.bin/node', () => {
    expect(versionOf(PROJECT_NODE)).toMatch(/^v24\./);
    expect(versionOf(join(REPO, 'node_modules', '.bin', 'node'))).toMatch(/^v24\./);
  });

  it('runs the CLI on Node 22: version and a sql pipeline', async () => {
    expect(versionOf(NODE_22)).toMatch(/^v22\./);
    const project = tempProject();
    const version = await run(NODE_22, [BIN, '--version'], { cwd: project });
    expect(version.stdout.trim()).toBe('weir 0.1.0');
    const result = await run(NODE_22, [BIN, 'run', 'hello'], { cwd: project, env: { ...process.env, NO_COLOR: '1' } });
    expect(result.stdout).toMatch(/succeeded/);
  });

  it.runIf(olderSystemNode())('prints one line naming the required version and exits 2 on an older Node', async () => {
    const node = olderSystemNode()!;
    const failure = await run(node, [BIN, '--version'], { cwd: REPO }).then(
      () => undefined,
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stdout).toBe('');
    expect(failure?.stderr).toBe(`weir needs Node 22.12 or newer (this is Node ${versionOf(node).slice(1)}): install Node 22 or 24.\n`);
  });
});
