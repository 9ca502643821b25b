/**
 * Real git for the git ledger tests: a bare remote with a `main` branch (the user's code), clones of
 * it, and stores over those clones. Everything lives in temp folders removed when the test ends.
 * Git reads no user or system config here, so the machine's settings cannot change the results.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createGit, type Git, type GitOptions } from '../../src/adapters/git.ts';
import { GitLedgerStore, type GitLedgerOptions } from '../../src/ledger/git-ledger-store.ts';
import { tempDir } from './ledger-fixtures.ts';

const run = promisify(execFile);

/** Isolated from ~/.gitconfig and /etc/gitconfig. */
export const GIT_ENV = { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0' };

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } });
  return stdout.trim();
}

const IDENTITY = ['-c', 'user.name=Test', '-c', 'user.email=test@example.com'];

/** A bare repository holding `main` with one commit, the way a user's repository starts. */
export async function createBareRemote(): Promise<string> {
  const root = await tempDir('weir-git-');
  const bare = join(root, 'remote.git');
  const seed = join(root, 'seed');
  await git(root, 'init', '--quiet', '--bare', '-b', 'main', bare);
  await git(root, 'init', '--quiet', '-b', 'main', seed);
  await writeFile(join(seed, 'README.md'), '# a project\n');
  await git(seed, 'add', 'README.md');
  await git(seed, ...IDENTITY, 'commit', '--quiet', '-m', 'first');
  await git(seed, 'push', '--quiet', bare, 'main');
  return bare;
}

/** A clone of `remote` (a path or URL) in a temp folder; `shallow` clones only the tip. */
export async function cloneOf(remote: string, options: { shallow?: boolean } = {}): Promise<string> {
  const dir = join(await tempDir('weir-clone-'), 'work');
  const depth = options.shallow ? ['--depth=1', '--no-local'] : [];
  const url = options.shallow && !remote.includes('://') ? `file://${remote}` : remote;
  await git(process.cwd(), 'clone', '--quiet', ...depth, url, dir);
  return dir;
}

export async function openGit(dir: string, options: GitOptions = {}): Promise<Git> {
  return createGit(dir, { ...options, env: { ...GIT_ENV, ...options.env } });
}

/** A store over a clone; backoff sleeps are skipped unless the test passes its own. */
export async function openStore(dir: string, options: GitLedgerOptions & GitOptions = {}): Promise<GitLedgerStore> {
  return new GitLedgerStore(await openGit(dir, options), { sleep: async () => {}, ...options });
}

/** Commits on the remote's ledger branch, newest first (subject lines). */
export async function ledgerLog(bare: string, branch = 'weir-ledger'): Promise<string[]> {
  return (await git(bare, 'log', '--format=%s', branch)).split('\n').filter(Boolean);
}
