/**
 * What a `command` child may see and how long it may live: the runner's credentials are stripped
 * from its environment unless `env_pass` names them, and its whole process group dies with weir,
 * even when weir is killed with SIGKILL (no handler runs).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it, onTestFinished } from 'vitest';
import { buildChildEnv } from '../../src/stages/child-env.ts';
import { CommandWith, commandStage } from '../../src/stages/command.ts';
import { createTestContext } from './context.ts';

/** Processes (not zombies) in process group `pgid`, from /proc. */
function liveMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses: split after the last ')'.
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(pgrp) === pgid && state !== 'Z') members.push(Number(name));
  }
  return members;
}

describe('command child environment', () => {
  it('strips the runner credentials and action inputs unless env_pass names them', async () => {
    const env = { PATH: process.env.PATH, KEEP_ME: 'kept', GITHUB_TOKEN: 'gh-token', ACTIONS_RUNTIME_TOKEN: 'rt', ACTIONS_ID_TOKEN_REQUEST_TOKEN: 'oidc', ACTIONS_ID_TOKEN_REQUEST_URL: 'https://oidc', ACTIONS_RESULTS_URL: 'https://results', ACTIONS_CACHE_URL: 'https://cache', INPUT_SECRET: 'in' };
    const ctx = await createTestContext({ env });
    onTestFinished(() => ctx.dispose());
    await commandStage.run(ctx, CommandWith.parse({ run: 'env', env: { EXTRA: 'x' }, env_pass: ['GITHUB_TOKEN'] }));
    const seen = new Map(ctx.logged('stdout').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
    expect(seen.get('KEEP_ME')).toBe('kept');
    expect(seen.get('EXTRA')).toBe('x');
    expect(seen.get('GITHUB_TOKEN')).toBe('gh-token');
    expect(seen.get('WEIR_STAGE')).toBe('stage');
    for (const name of ['ACTIONS_RUNTIME_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_RESULTS_URL', 'ACTIONS_CACHE_URL', 'INPUT_SECRET']) {
      expect(seen.has(name), name).toBe(false);
    }
  });

  it('builds the environment as base minus credentials, plus with.env, plus the WEIR_ variables', () => {
    const env = buildChildEnv({ base: { A: '1', INPUT_X: '2', GITHUB_TOKEN: '3', U: undefined }, extra: { A: 'over' }, pass: [], weir: { WEIR_STAGE: 's' } });
    expect(env).toEqual({ A: 'over', WEIR_STAGE: 's' });
  });
});

describe.skipIf(!existsSync('/proc/self/stat'))('command children die with weir', () => {
  it('kills the command process group when the weir process is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-watchdog-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const script = join(dir, 'runner.mjs');
    const command = resolve(import.meta.dirname, '..', '..', 'src', 'stages', 'command.ts');
    // A stand-in for weir: runs one command stage whose first line is its process group id.
    writeFileSync(script, `import { commandStage, CommandWith } from ${JSON.stringify(command)};
const log = { stdout: (line) => console.log(line), stderr() {}, info() {}, warn() {} };
const ctx = { runId: 'r', pipeline: 'p', stage: 's', attempt: 1, signal: new AbortController().signal, root: ${JSON.stringify(dir)}, runDir: ${JSON.stringify(dir)}, env: process.env, log };
await commandStage.run(ctx, CommandWith.parse({ run: 'echo $$; sleep 30 & sleep 30' }));
`);
    const weir = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let pgid = 0;
    onTestFinished(() => {
      weir.kill('SIGKILL');
      if (pgid > 0) for (const pid of liveMembers(pgid)) process.kill(pid, 'SIGKILL');
    });
    const [first] = await createInterface({ input: weir.stdout! })[Symbol.asyncIterator]().next().then((r) => [r.value as string]);
    pgid = Number(first);
    expect(liveMembers(pgid).length).toBeGreaterThanOrEqual(2);
    weir.kill('SIGKILL');
    // Bounded poll: the watchdog checks every 0.5 s; 10 s is far beyond it on a loaded machine.
    for (let i = 0; i < 100 && liveMembers(pgid).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(liveMembers(pgid)).toEqual([]);
  });
});
