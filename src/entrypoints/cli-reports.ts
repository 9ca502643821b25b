/**
 * `weir reports <run id> [--repo owner/name] [--out dir]`: downloads the report artifact a run
 * uploaded on GitHub (`weir-<pipeline>-<run id>`) through the REST API and unzips it into a folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { unzipSync } from 'fflate';
import { createGitHubArtifacts, GitHubApiError, GitHubAuthError, GitHubNotFoundError, type GitHubArtifacts, type RepoArtifact, type RepoRef } from '../adapters/github-api.ts';
import { tryParseRunId } from '../ledger/run-id.ts';
import { runArtifactName } from '../use-cases/run-artifact.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';

/** Artifacts scanned for a run whose pipeline the local ledger does not know (10 pages of 100). */
const MAX_ARTIFACTS_SCANNED = 1000;

/** No artifact of that run on GitHub (never uploaded, a wrong repository, or deleted). */
export class ReportsNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReportsNotFoundError';
  }
}

const REPO_PATTERN = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+?)(?:\.git)?$/;

function parseRepo(text: string, from: string): RepoRef {
  const match = REPO_PATTERN.exec(text);
  if (!match) throw new UsageError(`${from} must be owner/name, got '${text}'`);
  return { owner: match[1]!, repo: match[2]! };
}

/** The GitHub repository of the `origin` remote in `<root>/.git/config`, if it is one. */
function tryOriginRepo(root: string): RepoRef | undefined {
  const config = join(root, '.git', 'config');
  if (!existsSync(config)) return undefined;
  const origin = /\[remote "origin"\][^[]*?url\s*=\s*(\S+)/.exec(readFileSync(config, 'utf8'))?.[1];
  const match = origin && /github\.com[:/]([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(origin);
  return match ? { owner: match[1]!, repo: match[2]! } : undefined;
}

function resolveRepo(values: CliValues, io: Io, root: string): RepoRef {
  if (values.repo) return parseRepo(values.repo, '--repo');
  if (io.env.GITHUB_REPOSITORY) return parseRepo(io.env.GITHUB_REPOSITORY, 'GITHUB_REPOSITORY');
  const origin = tryOriginRepo(root);
  if (origin) return origin;
  throw new UsageError("which repository? give --repo owner/name (or run inside a clone whose origin is on github.com)");
}

function resolveToken(io: Io): string {
  const token = io.env.GITHUB_TOKEN || io.env.GH_TOKEN;
  if (!token) throw new UsageError("no GitHub token: set GITHUB_TOKEN or GH_TOKEN to a token that can read the repository's Actions (e.g. GH_TOKEN=$(gh auth token))");
  return token;
}

/** The run's artifact: by its exact name when the local ledger knows the run's pipeline, else by its run-id suffix. */
async function findRunArtifact(github: GitHubArtifacts, repo: RepoRef, runId: string, pipeline: string | undefined): Promise<RepoArtifact> {
  const slug = `${repo.owner}/${repo.repo}`;
  const found = pipeline
    ? (await github.listArtifactsNamed(repo, runArtifactName({ pipeline, runId })))[0]
    : await github.findArtifact(repo, (name) => name.startsWith('weir-') && name.endsWith(`-${runId}`), MAX_ARTIFACTS_SCANNED);
  if (!found) throw new ReportsNotFoundError(`no report artifact of run ${runId} in ${slug}${pipeline ? ` (looked for '${runArtifactName({ pipeline, runId })}')` : ''}; was the run made in this repository's Actions, and is the artifact within its retention?`);
  if (found.expired) throw new ReportsNotFoundError(`the report artifact '${found.name}' in ${slug} has expired; GitHub deletes artifacts after their retention period`);
  return found;
}

/** Writes the zip's entries under `out`, refusing any entry that would land outside it. */
async function extractZip(zip: Uint8Array, out: string): Promise<string[]> {
  const written: string[] = [];
  for (const [name, bytes] of Object.entries(unzipSync(zip))) {
    if (name.endsWith('/')) continue;
    const target = resolve(out, name);
    if (!target.startsWith(out + sep)) throw new GitHubApiError(`the artifact holds '${name}', which would be written outside ${out}; nothing more was extracted`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
    written.push(relative(out, target));
  }
  return written.sort();
}

async function pipelineOfLocalRun(root: string, runId: string): Promise<string | undefined> {
  try {
    return (await createCliDeps(root).ledger.getRun(runId))?.pipeline;
  } catch {
    return undefined; // no local ledger, or an unreadable one: fall back to scanning the repository
  }
}

export async function reportsCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length !== 1) throw new UsageError(`'weir reports' takes one run id, got ${args.length}${args.length ? ` (${args.join(', ')})` : ''}; see 'weir history' for run ids`);
  const runId = args[0]!;
  if (!tryParseRunId(runId)) throw new UsageError(`'${runId}' is not a weir run id (like 20261201T060000.000Z-3f9a1c); see 'weir history'`);
  const root = rootOf(values, io);
  const repo = resolveRepo(values, io, root);
  const github = await createGitHubArtifacts(resolveToken(io));
  const out = resolve(io.cwd, values.out ?? join('weir-reports', runId));
  try {
    const artifact = await findRunArtifact(github, repo, runId, await pipelineOfLocalRun(root, runId));
    const files = await extractZip(await github.downloadArtifactZip(repo, artifact.id), out);
    io.out(`downloaded ${artifact.name} (${files.length} files) into ${out}`);
    for (const file of files) io.out(`  ${file}`);
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ReportsNotFoundError || error instanceof GitHubAuthError || error instanceof GitHubNotFoundError || error instanceof GitHubApiError)) throw error;
    io.err(`weir: ${error.message}`);
    return EXIT.failed;
  }
}
