/** The git ledger against a remote over HTTP with a token check, as on GitHub. */
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GitAuthError } from '../../src/adapters/git.ts';
import { idAt } from './contract.ts';
import { cloneOf, createBareRemote, git, ledgerLog, openStore } from './git-fixtures.ts';
import { serveGitOverHttp } from './git-http-server.ts';
import { files, finishedRun } from './ledger-fixtures.ts';

const TOKEN = 'ghs_weirTestToken0123456789';
const BASIC = Buffer.from(`x-access-token:${TOKEN}`).toString('base64');

/** A clone whose `origin` is the HTTP URL (cloned from disk: the clone itself needs no token). */
async function httpClone(): Promise<{ bare: string; dir: string; url: string; server: Awaited<ReturnType<typeof serveGitOverHttp>> }> {
  const bare = await createBareRemote();
  const server = await serveGitOverHttp(dirname(bare), TOKEN);
  const url = server.urlOf(basename(bare));
  const dir = await cloneOf(bare);
  await git(dir, 'remote', 'set-url', 'origin', url);
  return { bare, dir, url, server };
}

/** Every file under `dir` whose bytes contain `needle`. */
async function filesContaining(dir: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    if ((await readFile(path)).includes(needle)) found.push(path);
  }
  return found;
}

describe('GitLedgerStore over HTTP with a token', () => {
  it('fetches and pushes with the token in a header, never writing it into .git', async () => {
    const { bare, dir, server } = await httpClone();
    const store = await openStore(dir, { token: TOKEN });
    await store.finishRun(finishedRun(idAt(1)), { processedFiles: files('h1') });
    await store.finishRun(finishedRun(idAt(2)), { processedFiles: files('h2') });
    expect(await ledgerLog(bare)).toHaveLength(2);
    expect(server.authorizations.length).toBeGreaterThan(0);
    expect(server.authorizations.every((a) => a === `basic ${BASIC}`)).toBe(true);
    expect(await filesContaining(join(dir, '.git'), TOKEN)).toEqual([]);
    expect(await filesContaining(join(dir, '.git'), BASIC)).toEqual([]);
    const reader = await openStore(await cloneOf(bare));
    await reader.refresh();
    expect(Object.keys((await reader.readState('p')).processedFiles).sort()).toEqual(['h1', 'h2']);
  });

  it('fails with a clear error on a wrong token, without the token in the message', async () => {
    const { bare, dir } = await httpClone();
    const wrong = 'ghs_wrongToken9876543210';
    const store = await openStore(dir, { token: wrong });
    const error = await store.finishRun(finishedRun(idAt(1))).then(() => undefined, (e: unknown) => e as Error);
    expect(error).toBeInstanceOf(GitAuthError);
    expect(error?.message).toMatch(/git remote 'origin' of .* refused the credentials .*contents: write/);
    expect(error?.message).not.toContain(wrong);
    expect(error?.message).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString('base64'));
    expect(await git(bare, 'branch', '--list', 'weir-ledger')).toBe('');
    expect(await readFile(join(dir, '.git', 'config'), 'utf8')).not.toContain(wrong);
  });

  it('fails the same way with no token at all', async () => {
    const { dir } = await httpClone();
    await expect((await openStore(dir)).refresh()).rejects.toThrow(GitAuthError);
  });
});
