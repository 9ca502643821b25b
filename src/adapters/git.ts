/**
 * A typed wrapper over the git CLI, implementing the ledger's `GitClient` port. Created by
 * `createGit`, which checks that git runs and that the folder is a repository.
 *
 * The token never touches `.git/config` nor an argv that `ps` shows: it travels as an
 * `http.extraHeader` in `GIT_CONFIG_COUNT/KEY/VALUE` environment variables of the one command that
 * talks to the remote, so there is no config side effect to undo afterwards. Every message that
 * leaves this module is passed through `redact`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import type { CommitRequest, FetchResult, GitClient, PushResult } from '../ledger/git-client.ts';

export interface GitOptions {
  /** Token for HTTPS remotes (GitHub: `GITHUB_TOKEN`), sent as `Authorization: basic …`. */
  token?: string;
  /** Extra environment for every git command (tests point HOME at a temp folder). */
  env?: Record<string, string | undefined>;
}

/** A git command failed for a reason other than the ones callers handle. */
export class GitCommandError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;

  constructor(command: string, cwd: string, exitCode: number | null, stderr: string) {
    super(`git ${command} failed in ${cwd} (exit ${exitCode}): ${stderr.trim() || 'no output'}`);
    this.name = 'GitCommandError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** The remote refused our credentials. */
export class GitAuthError extends Error {
  constructor(remote: string, cwd: string, detail: string) {
    super(
      `git remote '${remote}' of ${cwd} refused the credentials (${detail.trim()}); pass a token that may read and push ` +
        `(on GitHub: the job needs 'permissions: contents: write' and the Action's 'token' input)`,
    );
    this.name = 'GitAuthError';
  }
}

/** git is not installed, or the folder is not a repository. */
export class GitUnavailableError extends Error {
  constructor(cwd: string, detail: string) {
    super(`cannot use git in ${cwd}: ${detail.trim()}; install git and run weir inside a clone of the repository`);
    this.name = 'GitUnavailableError';
  }
}

interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  /** Exit codes that are answers, not failures. */
  okCodes?: number[];
  /** Send the token with this command. */
  auth?: boolean;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const AUTH_FAILURE = /Authentication failed|could not read Username|terminal prompts disabled|HTTP 40[13]|returned error: 40[13]/i;
/** The remote moved on, or another push was updating the ref at that instant: both mean "rebuild and retry". */
const REJECTED = /\[rejected\]|fetch first|non-fast-forward|cannot lock ref|failed to update ref|incorrect old value/;

export class Git implements GitClient {
  readonly cwd: string;
  readonly gitDir: string;
  readonly #token: string | undefined;
  readonly #env: Record<string, string | undefined>;
  #shallow: boolean | undefined;

  constructor(cwd: string, gitDir: string, options: GitOptions = {}) {
    this.cwd = cwd;
    this.gitDir = gitDir;
    this.#token = options.token || undefined;
    this.#env = options.env ?? {};
  }

  /** Removes the token, and the base64 form it takes in the header, from text shown to people. */
  redact(text: string): string {
    if (!this.#token) return text;
    return [this.#token, authHeaderValue(this.#token)].reduce((out, secret) => out.split(secret).join('***'), text);
  }

  #environment(options: RunOptions): NodeJS.ProcessEnv {
    // Never prompt (a CI job would hang), never trace HTTP headers into a log.
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.#env, GIT_TERMINAL_PROMPT: '0', GIT_TRACE_CURL: undefined, GIT_TRACE: undefined, GIT_CURL_VERBOSE: undefined, ...options.env };
    if (options.auth && this.#token) {
      Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `AUTHORIZATION: ${authHeaderValue(this.#token)}` });
    }
    return env;
  }

  /** Runs git; a non-zero exit outside `okCodes` throws GitCommandError (token redacted). */
  run(args: string[], options: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      const child = spawn('git', args, { cwd: this.cwd, env: this.#environment(options), stdio: ['pipe', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (d: Buffer) => out.push(d));
      child.stderr.on('data', (d: Buffer) => err.push(d));
      child.on('error', (error) => reject(new GitUnavailableError(this.cwd, error.message)));
      child.on('close', (code) => {
        const result = { code: code ?? -1, stdout: Buffer.concat(out).toString('utf8'), stderr: this.redact(Buffer.concat(err).toString('utf8')) };
        if (code === 0 || options.okCodes?.includes(code ?? -1)) resolve(result);
        else reject(new GitCommandError(args[0] ?? '', this.cwd, code, result.stderr));
      });
      child.stdin.on('error', () => {}); // git may exit before reading all input; its exit code says why
      child.stdin.end(options.input ?? '');
    });
  }

  async resolveCommit(ref: string): Promise<string | undefined> {
    const { code, stdout } = await this.run(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { okCodes: [1, 128] });
    return code === 0 ? stdout.trim() : undefined;
  }

  async #isShallow(): Promise<boolean> {
    this.#shallow ??= (await this.run(['rev-parse', '--is-shallow-repository'])).stdout.trim() === 'true';
    return this.#shallow;
  }

  async fetchBranch(remote: string, branch: string, trackingRef: string): Promise<FetchResult> {
    // A shallow clone (actions/checkout's default) only needs the tip to build the next commit on.
    const depth = (await this.#isShallow()) ? ['--depth=1'] : [];
    const args = ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', ...depth, remote, `+refs/heads/${branch}:${trackingRef}`];
    const result = await this.run(args, { auth: true, okCodes: [1, 128] });
    if (result.code !== 0) {
      if (/couldn't find remote ref/i.test(result.stderr)) return { fetched: false, reason: 'missing' };
      if (/cannot lock ref|Unable to create '.*\.lock'/i.test(result.stderr)) return { fetched: false, reason: 'ref-locked' };
      this.#throwRemoteFailure('fetch', remote, result);
    }
    const tip = await this.resolveCommit(trackingRef);
    if (!tip) throw new GitCommandError('fetch', this.cwd, result.code, `fetched ${branch} but ${trackingRef} does not resolve`);
    return { fetched: true, tip };
  }

  #throwRemoteFailure(command: string, remote: string, result: RunResult): never {
    if (AUTH_FAILURE.test(result.stderr)) throw new GitAuthError(remote, this.cwd, result.stderr.split('\n').find((l) => AUTH_FAILURE.test(l)) ?? '');
    throw new GitCommandError(command, this.cwd, result.code, result.stderr);
  }

  async readFiles(commit: string, paths: string[]): Promise<(string | undefined)[]> {
    if (paths.length === 0) return [];
    // One process for the whole batch: `<sha> blob <size>\n<bytes>\n` or `<name> missing\n` each.
    const { stdout } = await this.run(['cat-file', '--batch'], { input: paths.map((p) => `${commit}:${p}\n`).join('') });
    return parseCatFileBatch(Buffer.from(stdout, 'utf8'), paths.length);
  }

  async listFiles(commit: string, dir: string): Promise<string[]> {
    const args = ['ls-tree', '-r', '--name-only', '-z', commit, ...(dir ? ['--', dir.endsWith('/') ? dir : `${dir}/`] : [])];
    return (await this.run(args)).stdout.split('\0').filter(Boolean);
  }

  async listNames(commit: string, dir: string): Promise<string[]> {
    const treeish = dir ? `${commit}:${dir}` : commit;
    const { code, stdout } = await this.run(['ls-tree', '--name-only', '-z', treeish], { okCodes: [128] });
    return code === 0 ? stdout.split('\0').filter(Boolean) : [];
  }

  async createCommit(request: CommitRequest): Promise<string> {
    // A private index file: the user's index and work tree are never touched.
    const index = join(this.gitDir, `weir-index-${process.pid}-${randomBytes(4).toString('hex')}`);
    const env = { GIT_INDEX_FILE: index };
    try {
      if (request.parent) await this.run(['read-tree', request.parent], { env });
      else await this.run(['read-tree', '--empty'], { env });
      // One update-index for every entry (mode 0 removes a path): fewer processes, a shorter race window.
      const entries: string[] = [];
      for (const file of request.files) {
        const blob = (await this.run(['hash-object', '-w', '--stdin'], { input: file.content })).stdout.trim();
        entries.push(`100644 ${blob}\t${file.path}`);
      }
      for (const path of request.remove ?? []) entries.push(`0 ${'0'.repeat(40)}\t${path}`);
      await this.run(['update-index', '--index-info'], { input: `${entries.join('\n')}\n`, env });
      const tree = (await this.run(['write-tree'], { env })).stdout.trim();
      const { name, email } = request.author;
      const who = { GIT_AUTHOR_NAME: name, GIT_AUTHOR_EMAIL: email, GIT_COMMITTER_NAME: name, GIT_COMMITTER_EMAIL: email };
      const parent = request.parent ? ['-p', request.parent] : [];
      return (await this.run(['commit-tree', tree, ...parent, '-F', '-'], { input: request.message, env: who })).stdout.trim();
    } finally {
      await rm(index, { force: true });
    }
  }

  async push(remote: string, commit: string, branch: string): Promise<PushResult> {
    const result = await this.run(['push', '--porcelain', '--quiet', remote, `${commit}:refs/heads/${branch}`], { auth: true, okCodes: [1] });
    if (result.code === 0) return 'pushed';
    if (REJECTED.test(result.stdout) || REJECTED.test(result.stderr)) return 'rejected';
    this.#throwRemoteFailure('push', remote, result);
  }

  async updateRef(ref: string, commit: string, expected?: string): Promise<boolean> {
    const { code } = await this.run(['update-ref', ref, commit, ...(expected ? [expected] : [])], { okCodes: [1, 128] });
    return code === 0;
  }
}

/** `basic base64(x-access-token:<token>)`, the form GitHub accepts for a GITHUB_TOKEN over HTTPS. */
function authHeaderValue(token: string): string {
  return `basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`;
}

/** Pure: the answers of `git cat-file --batch`, in request order. */
export function parseCatFileBatch(output: Buffer, count: number): (string | undefined)[] {
  const files: (string | undefined)[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    const eol = output.indexOf(0x0a, at);
    if (eol < 0) throw new Error(`git cat-file --batch answered ${i} of ${count} objects`);
    const header = output.subarray(at, eol).toString('utf8');
    at = eol + 1;
    const match = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
    if (!match) {
      files.push(undefined); // `<name> missing` or `<name> ambiguous`
      continue;
    }
    const size = Number(match[2]);
    files.push(match[1] === 'blob' ? output.subarray(at, at + size).toString('utf8') : undefined);
    at += size + 1;
  }
  return files;
}

/** A git client for the repository that holds `cwd`. */
export async function createGit(cwd: string, options: GitOptions = {}): Promise<Git> {
  const probe = new Git(cwd, '', options);
  let gitDir: string;
  try {
    gitDir = (await probe.run(['rev-parse', '--git-dir'])).stdout.trim();
  } catch (error) {
    throw new GitUnavailableError(cwd, error instanceof GitCommandError ? error.stderr : String(error));
  }
  return new Git(cwd, isAbsolute(gitDir) ? gitDir : join(cwd, gitDir), options);
}
