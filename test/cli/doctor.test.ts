/**
 * `weir doctor` and `requires: [gpu]` through the real CLI process: temp projects, a fake
 * nvidia-smi on PATH, a real git repository with a ledger branch.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { fakeNvidiaSmi } from '../adapters/fake-nvidia-smi.ts';
import { project, weir } from './helpers.ts';

/** No GPU whatever this machine has: no nvidia-smi on PATH (only node's and the system's folders) and WEIR_GPU unset. */
const NO_GPU = { WEIR_GPU: '0' };

const GPU_PIPELINE = `name: embed-demo
stages:
  extract: { uses: sql, with: { query: "select 1 as x" } }
  embed:
    uses: command
    needs: [extract]
    runs-on: [self-hosted, gpu]
    requires: [gpu]
    with: { script: scripts/embed.sh, args: ["{{ env.EMBED_MODEL }}"] }
  load:
    uses: sql
    needs: [embed]
    with: { query: "select '{{ env.REGION | default('eu') }}' as region" }
`;

function gpuProject(): string {
  return project({ 'pipelines/embed-demo.yml': GPU_PIPELINE, 'scripts/embed.sh': '#!/bin/sh\necho "embedding with $1"\n' });
}

/** A PATH without any nvidia-smi this machine may have: node's folder and the usual system folders. */
const PLAIN_PATH = [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(delimiter);

describe('weir doctor', () => {
  it('checks only the machine outside a project, and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-doctor-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const text = await weir(dir, ['doctor'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^This machine\n {2}[✓!] Node \d+\.\d+\.\d+/);
    expect(text.stdout).toMatch(/✓ DuckDB v\d+\.\d+\.\d+ loads/);
    expect(text.stdout).toContain('· GPU: none (WEIR_GPU=0)');
    expect(text.stdout).toMatch(/✓ git \d/);
    expect(text.stdout).toContain('· not a git checkout');
    expect(text.stdout).toContain('No weir project here');
    const json = await weir(dir, ['doctor', '--json'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({ ok: true, pipelines: [] });
    expect(report.project).toBeUndefined();
  });

  it('lists what a pipeline needs and lacks here (GPU, unset env var, non-executable script) and exits 1', async () => {
    const dir = gpuProject();
    const result = await weir(dir, ['doctor'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(result.code).toBe(1);
    const out = result.stdout;
    expect(out).toContain('Pipeline embed-demo (pipelines/embed-demo.yml)');
    expect(out).toContain('✗ stage embed requires a gpu: none here');
    expect(out).toContain("→ in CI it runs on [self-hosted, gpu]; 'weir run' here fails it unless WEIR_GPU=1 lifts the requirement");
    expect(out).toContain('· runs-on [self-hosted, gpu]: embed');
    expect(out).toContain('✗ env EMBED_MODEL is not set (stage embed)');
    expect(out).toContain('! env REGION is not set; its default is used (stage load)');
    expect(out).toContain('✗ stage embed: scripts/embed.sh is not executable');
    expect(out).toContain('→ chmod +x scripts/embed.sh');
    expect(out).toContain('Something needed is missing (exit 1)');
    const json = JSON.parse((await weir(dir, ['doctor', '--json'], { ...NO_GPU, PATH: PLAIN_PATH })).stdout);
    expect(json.ok).toBe(false);
    expect(json.pipelines[0].checks.filter((c: { status: string }) => c.status === 'fail')).toHaveLength(3);
  });

  it('exits 0 once the GPU, the variable and the executable script are there, listing the GPUs nvidia-smi reports', async () => {
    const dir = gpuProject();
    chmodSync(join(dir, 'scripts/embed.sh'), 0o755);
    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const result = await weir(dir, ['doctor'], { PATH: `${smi.dir}${delimiter}${PLAIN_PATH}`, EMBED_MODEL: 'bge-small', REGION: 'us' });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ GPU: 2 × NVIDIA H100 80GB HBM3 (81559 MiB) · driver 550.54.15 · CUDA 12.4 (nvidia-smi)');
    expect(result.stdout).toContain('✓ stage embed requires a gpu: present');
    expect(result.stdout).toContain('✓ env EMBED_MODEL is set (stage embed)');
    expect(result.stdout).toContain('✓ stage embed: scripts/embed.sh is executable');
    expect(result.stdout).toContain('Everything needed is here.');
    expect(smi.calls()).toHaveLength(2);
  });

  it('names a pipeline file with errors and a missing script', async () => {
    const dir = project({
      'pipelines/broken.yml': 'name: broken\nstages:\n  a: { uses: sqll }\n',
      'pipelines/train.yml': 'name: train\nstages:\n  fit: { uses: command, with: { script: scripts/missing.sh } }\n',
    });
    const result = await weir(dir, ['doctor'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✗ pipelines/broken.yml: 1 error\n      → run 'weir validate pipelines/broken.yml'");
    expect(result.stdout).toContain('✗ pipelines/train.yml: 1 error'); // validation names the missing script
    expect(result.stdout).not.toContain('No pipeline files');
  });

  it('says a project without pipeline files has none yet, and exits 0', async () => {
    const dir = project({ 'pipelines/.gitkeep': '' });
    const result = await weir(dir, ['doctor'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('No pipeline files in pipelines/ yet.');
  });

  it('reports the ledger branch of a git checkout and that the CLI reads it', async () => {
    const dir = project({ 'pipelines/hello.yml': 'name: hello\nstages:\n  a: { uses: sql, with: { query: "select 1 as x" } }\n' });
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e' } });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'init');
    const before = await weir(dir, ['doctor'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(before.stdout).toContain('· ledger branch weir-ledger: not here');
    expect(before.stdout).toContain('· ledger: .weir/ledger (none yet; the first run creates it)');
    git('branch', 'weir-ledger');
    const after = await weir(dir, ['doctor'], { ...NO_GPU, PATH: PLAIN_PATH });
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('· ledger branch weir-ledger: local');
    expect(after.stdout).toContain('· ledger: git branch weir-ledger');
  });

  it('is listed in help, with its exit codes', async () => {
    const dir = gpuProject();
    expect((await weir(dir, ['help'])).stdout).toMatch(/weir doctor +what this machine offers/);
    const help = await weir(dir, ['doctor', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit 0 when everything needed is here, 1 when something a pipeline needs is missing');
    expect(help.stdout).toContain('--json');
  });

  it('exits 2 on bad usage', async () => {
    const dir = gpuProject();
    const extra = await weir(dir, ['doctor', 'embed-demo']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain("'weir doctor' takes no arguments");
    const option = await weir(dir, ['doctor', '--limit', '3']);
    expect(option.code).toBe(2);
    const root = await weir(dir, ['doctor', '--root', 'nope']);
    expect(root.code).toBe(2);
    expect(root.stderr).toContain("--root 'nope' is not a folder");
  });
});

describe('weir run with a GPU stage', () => {
  it('fails the stage at once without a GPU, naming its runner labels and WEIR_GPU=1; with one, history shows the GPUs', async () => {
    const dir = gpuProject();
    chmodSync(join(dir, 'scripts/embed.sh'), 0o755);
    const failed = await weir(dir, ['run', 'embed-demo', '--json'], { ...NO_GPU, EMBED_MODEL: 'm' });
    expect(failed.code).toBe(1);
    const { embed } = JSON.parse(failed.stdout).stages;
    expect(embed.attempts).toHaveLength(1);
    expect(embed.error.message).toContain('[self-hosted, gpu]');
    expect(embed.error.message).toContain('WEIR_GPU=1');

    const smi = fakeNvidiaSmi({ kind: 'gpus' });
    const ok = await weir(dir, ['run', 'embed-demo'], { PATH: smi.path, EMBED_MODEL: 'm' });
    expect(ok.code).toBe(0);
    const [latest] = JSON.parse((await weir(dir, ['history', 'embed-demo', '--json'])).stdout);
    const detail = await weir(dir, ['history', latest.runId, '--table']);
    expect(detail.stdout).toContain('resources:\n  embed: 2 × NVIDIA H100 80GB HBM3 (81559 MiB) · driver 550.54.15 · CUDA 12.4 (nvidia-smi)');
  });
});
