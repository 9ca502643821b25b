/**
 * A real `weir run` (runPipeline with createLocalRunDeps, real DuckDB, a real HTTP source on
 * loopback) publishes its report artifact through the real `@actions/artifact` client to the Actions
 * results emulator; the artifact is downloaded again and compared file by file (sha256).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DefaultArtifactClient } from '@actions/artifact';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createActionsArtifactStore } from '../../src/adapters/actions-artifacts.ts';
import { loadPipelineSource } from '../../src/definitions/load-pipeline.ts';
import { createLocalRunDeps } from '../../src/entrypoints/local-run-deps.ts';
import { defaultStageKinds } from '../../src/stages/registry.ts';
import { collectRunArtifact, publishRunArtifact, REPORT_FILES, type ArtifactStore } from '../../src/use-cases/run-artifact.ts';
import { runPipeline } from '../../src/use-cases/run-pipeline.ts';
import { startActionsResultsEmulator } from '../support/actions-results-emulator.ts';
import { sha256File, useActionsRuntime, useTempDir } from '../support/actions-env.ts';

/** An API answering rows with two bad records among them (they become dead letters). */
async function startRowsServer(): Promise<string> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify([{ id: 1 }, 'garbage', { id: 2 }, null, { id: 3 }]));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/rows`;
}

const pipelineYaml = (url: string) => `name: rates
artifacts: ["out/**/*.csv", "../outside/*.txt"]
stages:
  api:
    uses: http
    policy: { max_dead_letter_ratio: 0.5 }
    with: { url: "${url}" }
  clean:
    uses: sql
    needs: [api]
    with: { query: "select * from api" }
    checks: [ { not_null: [id] }, { row_count: { min: 1 } } ]
  save:
    uses: export
    needs: [clean]
    with: { table: clean, path: out/rates/clean.csv }
`;

/** Runs the pipeline for real in a fresh project under `dir`. */
async function runRates(dir: string) {
  const root = join(dir, 'project');
  mkdirSync(join(root, 'pipelines'), { recursive: true });
  mkdirSync(join(dir, 'outside'), { recursive: true });
  writeFileSync(join(dir, 'outside', 'secret.txt'), 'not for the artifact');
  const { pipeline, diagnostics } = loadPipelineSource(pipelineYaml(await startRowsServer()), 'pipelines/rates.yml', { kinds: defaultStageKinds(), fileExists: () => true });
  expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const deps = createLocalRunDeps({ root, env: {} });
  const summary = await runPipeline({ pipeline: pipeline!, root, kinds: defaultStageKinds() }, deps);
  return { root, summary, globs: pipeline!.spec.artifacts };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

describe('the report artifact of a run', () => {
  it('holds the reports, the record, dead letters and the pipeline files, uploaded and read back byte for byte', async () => {
    const dir = useTempDir('weir-artifact-');
    const emulator = await startActionsResultsEmulator();
    onTestFinished(() => emulator.close());
    useActionsRuntime(emulator.env, dir);
    const { root, summary, globs } = await runRates(dir);
    const warnings: string[] = [];

    const result = await publishRunArtifact({ record: summary.record, runDir: summary.runDir, root, globs }, { store: createActionsArtifactStore(), warn: (m) => warnings.push(m) });
    const out = join(dir, 'downloaded');
    await new DefaultArtifactClient().downloadArtifact((result as { id: number }).id, { path: out });

    expect(summary.record.status).toBe('succeeded');
    expect(result).toMatchObject({ uploaded: true, name: `weir-rates-${summary.runId}` });
    expect(emulator.artifacts().map((a) => a.name)).toEqual([`weir-rates-${summary.runId}`]);
    expect(listFiles(out)).toEqual([...REPORT_FILES, 'dead-letters/api.jsonl', 'files/out/rates/clean.csv'].sort());
    for (const file of listFiles(out)) expect(sha256File(join(out, file)), file).toBe(sha256File(join(summary.runDir, 'artifact', file)));
    expect(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'))).toEqual(JSON.parse(JSON.stringify(summary.record)));
    expect(readFileSync(join(out, 'files/out/rates/clean.csv'), 'utf8')).toBe(readFileSync(join(root, 'out/rates/clean.csv'), 'utf8'));
    expect(readFileSync(join(out, 'checks.csv'), 'utf8')).toContain('clean,row_count');
    expect(warnings).toEqual([expect.stringMatching(/outside[/\\]secret\.txt is outside the project/)]);
  });

  it('warns and reports the run unchanged when the results service answers 500 every time', { timeout: 90_000 }, async () => {
    const dir = useTempDir('weir-artifact-');
    const emulator = await startActionsResultsEmulator();
    onTestFinished(() => emulator.close());
    useActionsRuntime(emulator.env, dir);
    const { root, summary, globs } = await runRates(dir);
    emulator.failNext('CreateArtifact', 500, Number.POSITIVE_INFINITY);
    const warnings: string[] = [];

    // The client retries 5 times with its own backoff (~3 s × 1.5ⁿ, not injectable): about 30 s of waiting.
    const result = await publishRunArtifact({ record: summary.record, runDir: summary.runDir, root, globs }, { store: createActionsArtifactStore(), warn: (m) => warnings.push(m) });

    expect(result).toMatchObject({ uploaded: false, name: `weir-rates-${summary.runId}` });
    expect(emulator.calls.map((c) => c.status)).toEqual([500, 500, 500, 500, 500]);
    expect(warnings.at(-1)).toMatch(/report artifact 'weir-rates-.*' was not uploaded \(.*500.*\); the run's result is unchanged/);
  });

  it('warns when the results service is down', async () => {
    const dir = useTempDir('weir-artifact-');
    const emulator = await startActionsResultsEmulator();
    useActionsRuntime(emulator.env, dir);
    await emulator.close();
    const { root, summary, globs } = await runRates(dir);
    const warnings: string[] = [];

    const result = await publishRunArtifact({ record: summary.record, runDir: summary.runDir, root, globs }, { store: createActionsArtifactStore(), warn: (m) => warnings.push(m) });

    expect(result).toMatchObject({ uploaded: false });
    expect(warnings.at(-1)).toMatch(/was not uploaded \(.*ECONNREFUSED.*\)/);
  });

  it('turns a store that throws into a warning, with the reports still collected in the run folder', async () => {
    const dir = useTempDir('weir-artifact-');
    const { root, summary, globs } = await runRates(dir);
    const failing: ArtifactStore = { upload: () => Promise.reject(new Error('quota exceeded')) };
    const warnings: string[] = [];

    const result = await publishRunArtifact({ record: summary.record, runDir: summary.runDir, root, globs }, { store: failing, warn: (m) => warnings.push(m) });
    const collected = await collectRunArtifact({ record: summary.record, runDir: summary.runDir, root, globs });

    expect(result).toEqual({ uploaded: false, name: `weir-rates-${summary.runId}`, reason: 'quota exceeded' });
    expect(listFiles(collected.dir)).toContain('report.html');
    expect(warnings.at(-1)).toContain(`its reports are in ${collected.dir}`);
  });
});
