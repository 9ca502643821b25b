/**
 * What a new user meets in the first hour, driven through the real binary: errors that say what
 * to do (exit 2, no stack), the project root found from a subfolder, help for each command, flags
 * checked per command.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { project, weir } from './helpers.ts';

const SALES = `name: sales
schedule: { cron: "0 6 * * *", timezone: Europe/Paris }
params:
  min_qty: { type: integer, default: 1, description: Smallest quantity kept }
  region: { type: choice, options: [eu, us], required: true }
stages:
  orders:
    uses: sql
    with: { query: "select * from (values (1, 3), (2, 5)) t(id, qty) where qty >= {{ params.min_qty }}" }
  totals:
    uses: sql
    needs: [orders]
    with: { query: "select sum(qty) as qty from orders" }
`;

const BROKEN = `name: broken
stages:
  a:
    uses: sql
    with: { query: "select 1 as x" }
  b:
    uses: sql
    needs: [a]
    with: { query: "select * from no_such_table" }
`;

/** Asserts one user-error line (exit 2, no stack trace) and returns it. */
function expectUserError(result: { code: number | null; stderr: string }): string {
  expect(result.code).toBe(2);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr;
}

describe('errors a new user makes', () => {
  it('names a path that does not exist, with exit 2 and no stack', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    const stderr = expectUserError(await weir(dir, ['validate', 'pipelines/sale.yml']));
    expect(stderr).toMatch(/^weir: 'pipelines\/sale\.yml' does not exist in .*: pass pipeline files/);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('says there is no project (and how to start one) outside any project', async () => {
    const dir = project({ 'notes.txt': 'not a project' });
    const stderr = expectUserError(await weir(dir, ['validate']));
    expect(stderr).toContain('no weir project in');
    expect(stderr).toContain('--root <dir>');
  });

  it('refuses a --root that is not a folder', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    const stderr = expectUserError(await weir(dir, ['status', '--root', 'nowhere']));
    expect(stderr).toContain("--root 'nowhere' is not a folder");
  });

  it('refuses a bad --date naming --date, and a bad --concurrency', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    expect(expectUserError(await weir(dir, ['run', 'sales', '--date', '2026-13-01']))).toContain("--date '2026-13-01' is not a date");
    expect(expectUserError(await weir(dir, ['run', 'sales', '--date', 'yesterday']))).toContain("--date 'yesterday'");
    expect(expectUserError(await weir(dir, ['run', 'sales', '--concurrency', 'lots']))).toContain("--concurrency must be a positive whole number, got 'lots'");
  });

  it('refuses a flag the command does not take, naming the command', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    expect(expectUserError(await weir(dir, ['run', 'sales', '--mermaid']))).toContain("'weir run' does not take --mermaid");
    expect(expectUserError(await weir(dir, ['validate', '--limit', '3']))).toContain("'weir validate' does not take --limit");
    expect(expectUserError(await weir(dir, ['run', 'sales', '--paramm', 'x=1']))).toContain("unknown option '--paramm' (did you mean '--param'?); 'weir run --help' lists the options");
    expect(expectUserError(await weir(dir, ['statuss']))).toContain("unknown command 'statuss' (did you mean 'status'?)");
  });

  it('refuses --all together with pipeline names', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    expect(expectUserError(await weir(dir, ['run', '--all', 'sales']))).toContain('--all runs every pipeline: drop --all or the names (sales)');
  });

  it('suggests the stage meant by --from and --only', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    expect(expectUserError(await weir(dir, ['run', 'sales', '--from', 'total', '-p', 'region=eu']))).toContain("--from names stage 'total', which pipeline 'sales' does not have (did you mean 'totals'?)");
    expect(expectUserError(await weir(dir, ['plan', 'sales', '--only', 'order']))).toContain("(did you mean 'orders'?)");
  });

  it('names the pipeline and its file in a param error', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    const stderr = expectUserError(await weir(dir, ['run', 'sales', '--param', 'min_qty=many', '--param', 'region=eu']));
    expect(stderr).toContain("pipeline 'sales' (pipelines/sales.yml): param 'min_qty' must be an integer, got 'many'");
  });

  it('reports an unexpected error in one line with a hint, and the stack only with --debug', async () => {
    // weir.yml as a folder: reading it fails in a way no user error covers.
    const dir = project({ 'weir.yml/.keep': '', 'pipelines/sales.yml': SALES });
    const plain = await weir(dir, ['validate']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain('run with --debug for the stack');
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await weir(dir, ['validate', '--debug']);
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('says so when a project has no pipelines yet, and how to start', async () => {
    const dir = project({ 'weir.yml': 'policies: {}\n' });
    const result = await weir(dir, ['validate']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('no pipelines yet in pipelines/');
    expect(result.stdout).toContain('pipelines/hello.yml');
  });
});

describe('the project root', () => {
  it('is found from a subfolder, for validate, run and history', async () => {
    const dir = project({ 'pipelines/broken.yml': BROKEN, 'data/raw/.keep': '' });
    const sub = join(dir, 'data', 'raw');
    expect((await weir(sub, ['validate'])).stdout).toContain('1 file checked');
    expect((await weir(sub, ['run', 'broken'])).code).toBe(1);
    const history = await weir(sub, ['history', '--table']);
    expect(history.stdout).not.toContain('no runs yet');
    expect(history.stdout).toMatch(/broken\s+failed/);
  });

  it('is the folder --root names, whatever the current folder', async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    mkdirSync(join(dir, 'elsewhere'));
    const result = await weir(join(dir, 'elsewhere'), ['validate', '--root', '..']);
    expect(result.stdout).toContain('1 file checked');
  });
});

describe('help and version', () => {
  it('prints the version for version, -v and --version', async () => {
    const dir = project({});
    for (const args of [['version'], ['-v'], ['--version']]) {
      const result = await weir(dir, args);
      expect(result).toMatchObject({ code: 0, stdout: expect.stringMatching(/^weir \d+\.\d+\.\d+\n$/) });
    }
  });

  it("prints a command's own flags for 'weir help <command>' and '<command> --help'", async () => {
    const dir = project({});
    const viaHelp = await weir(dir, ['help', 'history']);
    const viaFlag = await weir(dir, ['history', '--help']);
    expect(viaHelp.code).toBe(0);
    expect(viaHelp.stdout).toBe(viaFlag.stdout);
    expect(viaHelp.stdout).toContain('Usage: weir history');
    expect(viaHelp.stdout).toContain('--limit <n>');
    expect(viaHelp.stdout).not.toContain('--mermaid');
  });

  it("lists a pipeline's params with type, description and default under 'run <pipeline> --help'", async () => {
    const dir = project({ 'pipelines/sales.yml': SALES });
    const result = await weir(dir, ['run', 'sales', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--concurrency <n>');
    expect(result.stdout).toContain("Params of 'sales' (pipelines/sales.yml):");
    expect(result.stdout).toMatch(/--param min_qty=<integer>\s+Smallest quantity kept \(default: 1\)/);
    expect(result.stdout).toMatch(/--param region=<choice: eu \| us>\s+\(required\)/);
  });
});
