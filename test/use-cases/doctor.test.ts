/** The doctor use case over injected probes: which findings fail it, without spawning anything. */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import type { GpuReport } from '../../src/model/resources.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { diagnose, type DoctorDeps } from '../../src/use-cases/doctor.ts';

const NO_GPU: GpuReport = { available: false, source: 'device-node', devices: [], reason: 'nvidia-smi is not on PATH' };

function deps(overrides: Partial<DoctorDeps> = {}, yaml?: string): DoctorDeps {
  const loaded = yaml ? loadPipelineSource(yaml, 'pipelines/p.yml', { kinds: defaultStageKinds(), fileExists: () => true }) : undefined;
  return {
    nodeVersion: '24.1.0',
    duckdb: async () => ({ loads: true, version: 'v1.5.5' }),
    gpu: async () => NO_GPU,
    git: async () => ({ version: '2.45.0', checkout: false, ledgerBranch: { local: false, origin: false } }),
    env: {},
    exists: () => false,
    isExecutable: () => false,
    resolve,
    loadPipelines: async () => ({ files: loaded ? ['pipelines/p.yml'] : [], pipelines: loaded?.pipeline ? [loaded.pipeline] : [], diagnostics: loaded?.diagnostics ?? [] }),
    ...overrides,
  };
}

describe('diagnose', () => {
  it('fails when the DuckDB binding does not load, even outside a project', async () => {
    const report = await diagnose({ cwd: '/tmp', ledgerBranch: 'weir-ledger' }, deps({ duckdb: async () => ({ loads: false, error: 'Cannot find module duckdb.node' }) }));
    expect(report.ok).toBe(false);
    expect(report.machine).toContainEqual({ status: 'fail', text: 'DuckDB does not load: Cannot find module duckdb.node', fix: expect.stringContaining('npm ci') });
  });

  it('warns, without failing, on a Node older than the one GitHub runs the Action on', async () => {
    const report = await diagnose({ cwd: '/tmp', ledgerBranch: 'weir-ledger' }, deps({ nodeVersion: '22.12.0' }));
    expect(report.ok).toBe(true);
    expect(report.machine[0]).toMatchObject({ status: 'warn', text: expect.stringContaining('Node 22.12.0') });
  });

  it('needs env vars that templates read, and only warns for a default() or an if: condition', async () => {
    const yaml = `name: p\nstages:\n  a:\n    uses: sql\n    if: env.DEPLOY == 'yes' && env.REGION != ''\n    with: { query: "select '{{ env.TZ_NAME | default('UTC') }}', '{{ env.REGION }}' as tz" }\n`;
    const report = await diagnose({ root: '/project', cwd: '/project', ledgerBranch: 'weir-ledger' }, deps({}, yaml));
    expect(report.ok).toBe(false);
    expect(report.pipelines[0].checks).toEqual([
      { status: 'warn', text: 'env DEPLOY is not set; its condition reads it as empty (stage a)' },
      { status: 'fail', text: 'env REGION is not set (stage a)', fix: expect.any(String) },
      { status: 'warn', text: 'env TZ_NAME is not set; its default is used (stage a)' },
    ]);
  });

  it('passes a GPU stage on a machine with a GPU, whatever the source', async () => {
    const yaml = `name: p\nstages:\n  g: { uses: command, requires: [gpu], with: { run: 'nvidia-smi' } }\n`;
    const gpu: GpuReport = { available: true, source: 'override', devices: [], reason: 'WEIR_GPU=1' };
    const report = await diagnose({ root: '/project', cwd: '/project', ledgerBranch: 'weir-ledger' }, deps({ gpu: async () => gpu }, yaml));
    expect(report.ok).toBe(true);
    expect(report.machine).toContainEqual({ status: 'ok', text: 'GPU: assumed present (WEIR_GPU=1)' });
    expect(report.pipelines[0].checks).toEqual([{ status: 'ok', text: 'stage g requires a gpu: present' }]);
  });
});
