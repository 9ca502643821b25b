/**
 * GitHub's REST API for what the CLI reads from a repository's Actions: its workflow artifacts.
 * Octokit from `@actions/github` (the same client the Action uses); every GitHub failure becomes one
 * of the typed errors below, with what to do about it.
 */

export interface RepoRef {
  owner: string;
  repo: string;
}

/** An artifact as the REST API lists it (the fields weir reads). */
export interface RepoArtifact {
  id: number;
  name: string;
  sizeInBytes: number;
  expired: boolean;
  createdAt?: string;
  workflowRunId?: number;
}

export interface GitHubArtifacts {
  /** Artifacts named exactly `name`, newest first. */
  listArtifactsNamed(repo: RepoRef, name: string): Promise<RepoArtifact[]>;
  /** The first artifact whose name satisfies `matches`, scanning the newest `maxArtifacts`. */
  findArtifact(repo: RepoRef, matches: (name: string) => boolean, maxArtifacts: number): Promise<RepoArtifact | undefined>;
  /** The artifact's zip (GitHub answers with a redirect to blob storage; it is followed). */
  downloadArtifactZip(repo: RepoRef, artifactId: number): Promise<Uint8Array>;
}

/** The token was refused (401) or lacks a permission (403). */
export class GitHubAuthError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitHubAuthError';
  }
}

/** The repository or artifact does not exist, or the token cannot see it (GitHub answers 404 for both). */
export class GitHubNotFoundError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitHubNotFoundError';
  }
}

/** Any other answer GitHub gave that weir cannot use. */
export class GitHubApiError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'GitHubApiError';
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** Maps Octokit's RequestError to a typed error that says what to do. */
function explain(error: unknown, what: string, repo: RepoRef): Error {
  const slug = `${repo.owner}/${repo.repo}`;
  switch (statusOf(error)) {
    case 401:
      return new GitHubAuthError(`GitHub refused the token while ${what} (401 Bad credentials); set GITHUB_TOKEN or GH_TOKEN to a valid token`, { cause: error });
    case 403:
      return new GitHubAuthError(`GitHub denied ${what} in ${slug} (403); the token needs read access to the repository's Actions (actions: read), or the rate limit is spent`, { cause: error });
    case 404:
      return new GitHubNotFoundError(`GitHub found nothing while ${what}: ${slug} does not exist or the token cannot read it (404); check --repo and the token's access`, { cause: error });
    case 410:
      return new GitHubNotFoundError(`the artifact in ${slug} has expired and was deleted by GitHub (410); its retention period is over`, { cause: error });
    default:
      return new GitHubApiError(`GitHub failed while ${what} in ${slug}: ${(error as Error)?.message ?? String(error)}`, { cause: error });
  }
}

interface RawArtifact {
  id: number;
  name: string;
  size_in_bytes: number;
  expired: boolean;
  created_at?: string | null;
  workflow_run?: { id?: number } | null;
}

function toArtifact(raw: RawArtifact): RepoArtifact {
  return { id: raw.id, name: raw.name, sizeInBytes: raw.size_in_bytes, expired: raw.expired, createdAt: raw.created_at ?? undefined, workflowRunId: raw.workflow_run?.id };
}

export interface GitHubApiOptions {
  /** REST API root. Default: https://api.github.com. */
  baseUrl?: string;
}

/**
 * Loads Octokit on first use: the CLI bundle keeps `@actions/github` external (scripts/build.ts), so
 * only `weir reports` pays for loading it.
 */
export async function createGitHubArtifacts(token: string, options: GitHubApiOptions = {}): Promise<GitHubArtifacts> {
  const { getOctokit } = await import('@actions/github');
  const octokit = getOctokit(token, options.baseUrl ? { baseUrl: options.baseUrl } : {});
  return {
    async listArtifactsNamed(repo, name) {
      try {
        const { data } = await octokit.rest.actions.listArtifactsForRepo({ ...repo, name, per_page: 100 });
        return data.artifacts.map(toArtifact);
      } catch (error) {
        throw explain(error, `listing the artifacts named '${name}'`, repo);
      }
    },
    async findArtifact(repo, matches, maxArtifacts) {
      try {
        let seen = 0;
        for await (const page of octokit.paginate.iterator(octokit.rest.actions.listArtifactsForRepo, { ...repo, per_page: 100 })) {
          const found = page.data.find((a) => matches(a.name));
          if (found) return toArtifact(found);
          seen += page.data.length;
          if (seen >= maxArtifacts) return undefined;
        }
        return undefined;
      } catch (error) {
        throw explain(error, 'listing the artifacts', repo);
      }
    },
    async downloadArtifactZip(repo, artifactId) {
      try {
        const { data } = await octokit.rest.actions.downloadArtifact({ ...repo, artifact_id: artifactId, archive_format: 'zip' });
        return new Uint8Array(data as ArrayBuffer);
      } catch (error) {
        throw explain(error, `downloading artifact ${artifactId}`, repo);
      }
    },
  };
}
