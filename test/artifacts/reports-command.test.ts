/**
 * `weir reports` against GitHub's REST API, mocked at the Octokit seam with nock (payloads pinned
 * from docs.github.com, "REST API endpoints for GitHub Actions artifacts"); never the network. The
 * zip served is the one the real `@actions/artifact` client uploaded to the results emulator.
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { zipSync } from 'fflate';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { createActionsArtifactStore } from '../../src/adapters/actions-artifacts.ts';
import { main } from '../../src/entrypoints/cli.ts';
import type { Io } from '../../src/entrypoints/cli-io.ts';
import type { RunRecord } from '../../src/ledger/run-record.ts';
import { collectRunArtifact, REPORT_FILES, uploadRunArtifact } from '../../src/use-cases/run-artifact.ts';
import { startActionsResultsEmulator } from '../support/actions-results-emulator.ts';
import { sha256File, useActionsRuntime, useTempDir } from '../support/actions-env.ts';

const RUN_ID = '20261201T060000.000Z-3f9a1c';
const API = 'https://api.github.com';
const BLOB = 'https://pipelinesghubeus21.blob.core.windows.net';

/** One artifact as "List artifacts for a repository" returns it (docs example, with weir's name). */
function listedArtifact(id: number, name: string, expired = false) {
  return {
    id,
    node_id: 'MDg6QXJ0aWZhY3QxMQ==',
    name,
    size_in_bytes: 556,
    url: `${API}/repos/octo-org/octo-docs/actions/artifacts/${id}`,
    archive_download_url: `${API}/repos/octo-org/octo-docs/actions/artifacts/${id}/zip`,
    expired,
    created_at: '2020-01-10T14:59:22Z',
    expires_at: '2020-03-21T14:59:22Z',
    updated_at: '2020-02-21T14:59:22Z',
    digest: 'sha256:cfc3236bdad15b5898bca8408945c9e19e1917da8704adc20eaa618444290a8c',
    workflow_run: { id: 2332938, repository_id: 1296269, head_repository_id: 1296269, head_branch: 'main', head_sha: '328faa0536e6fef19753d9d91dc96a9931694ce3' },
  };
}

function record(): RunRecord {
  return {
    runId: RUN_ID, pipeline: 'daily-rates', status: 'succeeded', trigger: 'schedule', params: {},
    interval: { start: '2026-11-30T00:00:00.000Z', end: '2026-12-01T00:00:00.000Z' }, startedAt: '2026-12-01T06:00:00.000Z', durationMs: 1500,
    stages: { extract: { status: 'succeeded', attempts: [{ attempt: 1, startedAt: '2026-12-01T06:00:00.000Z' }], rows: 3 } },
  };
}

/** A project folder and an Io that captures what the command prints, with `env` as its environment. */
function cli(dir: string, env: Record<string, string>) {
  const root = join(dir, 'project');
  mkdirSync(join(root, 'pipelines'), { recursive: true });
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), write: () => {}, isTty: false, color: false, cwd: root, env };
  return { root, io, out, err, run: (...args: string[]) => main(args, io) };
}

/** The zip of a run's artifact exactly as `@actions/artifact` uploads it, taken from the emulator. */
async function uploadedZip(dir: string): Promise<{ zip: Buffer; staged: string }> {
  const emulator = await startActionsResultsEmulator();
  onTestFinished(() => emulator.close());
  useActionsRuntime(emulator.env, dir);
  const artifact = await collectRunArtifact({ record: record(), runDir: join(dir, 'run'), root: dir });
  const result = await uploadRunArtifact(artifact, { store: createActionsArtifactStore(), warn: (m) => expect.fail(m) });
  expect(result.uploaded).toBe(true);
  return { zip: emulator.artifactBytes(artifact.name)!, staged: artifact.dir };
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath, e.name))).sort();
}

beforeEach(() => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1'); // the results emulator
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('weir reports', () => {
  it("finds the run's artifact among the repository's, follows the download redirect and unzips it byte for byte", async () => {
    const dir = useTempDir('weir-reports-');
    const { zip, staged } = await uploadedZip(dir);
    const { run, out, root } = cli(dir, { GH_TOKEN: 'ghp_test' });
    const api = nock(API, { reqheaders: { authorization: 'token ghp_test' } })
      .get('/repos/octo-org/octo-docs/actions/artifacts').query({ per_page: '100' })
      .reply(200, { total_count: 2, artifacts: [listedArtifact(13, 'Rails'), listedArtifact(11, `weir-daily-rates-${RUN_ID}`)] })
      .get('/repos/octo-org/octo-docs/actions/artifacts/11/zip')
      .reply(302, '', { location: `${BLOB}/xyz/11/zip?sig=abc` });
    const blob = nock(BLOB).get('/xyz/11/zip').query({ sig: 'abc' }).reply(200, zip, { 'content-type': 'application/zip' });

    const code = await run('reports', RUN_ID, '--repo', 'octo-org/octo-docs', '--out', 'got');

    expect(code).toBe(0);
    expect(api.isDone() && blob.isDone()).toBe(true);
    const got = join(root, 'got');
    expect(listFiles(got)).toEqual([...REPORT_FILES].sort());
    for (const file of REPORT_FILES) expect(sha256File(join(got, file)), file).toBe(sha256File(join(staged, file)));
    expect(out[0]).toBe(`downloaded weir-daily-rates-${RUN_ID} (5 files) into ${got}`);
  });

  it('asks GitHub for the exact artifact name when the local ledger knows the run', async () => {
    const dir = useTempDir('weir-reports-');
    const { run, root } = cli(dir, { GITHUB_TOKEN: 'ghs_x', GITHUB_REPOSITORY: 'octo-org/octo-docs' });
    const { createCliDeps } = await import('../../src/entrypoints/cli-deps.ts');
    await createCliDeps(root).ledger.finishRun(record(), undefined);
    const zip = zipSync({ 'report.md': new TextEncoder().encode('# report\n') });
    nock(API).get('/repos/octo-org/octo-docs/actions/artifacts').query({ name: `weir-daily-rates-${RUN_ID}`, per_page: '100' })
      .reply(200, { total_count: 1, artifacts: [listedArtifact(11, `weir-daily-rates-${RUN_ID}`)] })
      .get('/repos/octo-org/octo-docs/actions/artifacts/11/zip').reply(302, '', { location: `${BLOB}/z` });
    nock(BLOB).get('/z').reply(200, Buffer.from(zip), { 'content-type': 'application/zip' });

    expect(await run('reports', RUN_ID)).toBe(0);
    expect(listFiles(join(root, 'weir-reports', RUN_ID))).toEqual(['report.md']);
    expect(nock.isDone()).toBe(true);
  });

  it('says the token was refused on a 401', async () => {
    const dir = useTempDir('weir-reports-');
    const { run, err } = cli(dir, { GH_TOKEN: 'expired' });
    nock(API).get('/repos/octo-org/octo-docs/actions/artifacts').query(true)
      .reply(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });

    expect(await run('reports', RUN_ID, '--repo', 'octo-org/octo-docs')).toBe(1);
    expect(err).toEqual([expect.stringMatching(/^weir: GitHub refused the token .*401.*set GITHUB_TOKEN or GH_TOKEN/)]);
  });

  it('says the repository is missing or unreadable on a 404', async () => {
    const dir = useTempDir('weir-reports-');
    const { run, err } = cli(dir, { GH_TOKEN: 't' });
    nock(API).get('/repos/octo-org/nope/actions/artifacts').query(true)
      .reply(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest/actions/artifacts#list-artifacts-for-a-repository', status: '404' });

    expect(await run('reports', RUN_ID, '--repo', 'octo-org/nope')).toBe(1);
    expect(err[0]).toMatch(/octo-org\/nope does not exist or the token cannot read it \(404\); check --repo/);
  });

  it('says so when no artifact of the run exists, and when it has expired', async () => {
    const dir = useTempDir('weir-reports-');
    const { run, err } = cli(dir, { GH_TOKEN: 't' });
    nock(API).get('/repos/o/r/actions/artifacts').query(true).reply(200, { total_count: 1, artifacts: [listedArtifact(13, 'Rails')] });
    nock(API).get('/repos/o/r/actions/artifacts').query(true).reply(200, { total_count: 1, artifacts: [listedArtifact(11, `weir-daily-rates-${RUN_ID}`, true)] });

    expect(await run('reports', RUN_ID, '--repo', 'o/r')).toBe(1);
    expect(await run('reports', RUN_ID, '--repo', 'o/r')).toBe(1);
    expect(err[0]).toMatch(new RegExp(`no report artifact of run ${RUN_ID.replace('.', '\\.')} in o/r`));
    expect(err[1]).toMatch(/has expired/);
  });

  it('refuses to run without a token or a repository, before any request', async () => {
    const dir = useTempDir('weir-reports-');
    const noToken = cli(dir, { GITHUB_REPOSITORY: 'o/r' });
    const noRepo = cli(dir, { GH_TOKEN: 't' });

    expect(await noToken.run('reports', RUN_ID)).toBe(2);
    expect(await noRepo.run('reports', RUN_ID)).toBe(2);
    expect(await noRepo.run('reports', 'not-a-run', '--repo', 'o/r')).toBe(2);
    expect(noToken.err[0]).toMatch(/no GitHub token: set GITHUB_TOKEN or GH_TOKEN/);
    expect(noRepo.err).toEqual([expect.stringMatching(/which repository\? give --repo owner\/name/), expect.stringMatching(/'not-a-run' is not a weir run id/)]);
  });

  it('refuses a zip entry that would be written outside --out', async () => {
    const dir = useTempDir('weir-reports-');
    const { run, err, root } = cli(dir, { GH_TOKEN: 't' });
    const zip = zipSync({ '../escaped.txt': new TextEncoder().encode('no') });
    nock(API).get('/repos/o/r/actions/artifacts').query(true).reply(200, { total_count: 1, artifacts: [listedArtifact(11, `weir-daily-rates-${RUN_ID}`)] })
      .get('/repos/o/r/actions/artifacts/11/zip').reply(302, '', { location: `${BLOB}/z` });
    nock(BLOB).get('/z').reply(200, Buffer.from(zip), { 'content-type': 'application/zip' });

    expect(await run('reports', RUN_ID, '--repo', 'o/r', '--out', 'got')).toBe(1);
    expect(err[0]).toMatch(/'..\/escaped.txt', which would be written outside/);
    expect(listFiles(root).filter((f) => f.includes('escaped'))).toEqual([]);
  });
});
