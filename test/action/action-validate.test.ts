import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runBundle, tempFolder } from './bundle-runner.ts';

const VALID = `name: rates
stages:
  extract:
    uses: sql
    with: { query: "select 1 as rate" }
  clean:
    uses: sql
    needs: [extract]
    with: { query: "select * from extract" }
  embed:
    uses: sql
    needs: [clean]
    runs-on: [self-hosted, gpu]
    with: { query: "select * from clean" }
`;

const CYCLE = `name: cycle
stages:
  a:
    uses: sql
    needs: [c]
    with: { query: select 1 }
  b:
    uses: sql
    needs: [a]
    with: { query: select 1 }
  c:
    uses: sql
    needs: b
    with: { query: select 1 }
`;

/** A pipeline whose one stage needs a stage that does not exist: one error on line 5. */
function missingNeed(n: number): string {
  return `name: broken${n}\nstages:\n  a:\n    uses: sql\n    needs: [nope]\n    with: { query: select 1 }\n`;
}

/** `::error title=…,file=…::message` lines, as the runner reads them from stdout. */
function annotations(stdout: string, severity: 'error' | 'warning'): string[] {
  return stdout.split('\n').filter((line) => line.startsWith(`::${severity} `) || line.startsWith(`::${severity}::`));
}

describe('command: validate, run as the runner runs dist/index.js', () => {
  it('passes valid pipelines and puts each DAG and its plan with runner labels in the job summary', async () => {
    const workspace = tempFolder({ 'pipelines/rates.yml': VALID });
    const result = await runBundle(workspace, { inputs: { command: 'validate' }, event: { pull_request: { number: 7 } }, env: { GITHUB_EVENT_NAME: 'pull_request' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.outputs.status).toBe('valid');
    expect(annotations(result.stdout, 'error')).toEqual([]);
    expect(result.summary).toContain('## weir validate ✅');
    expect(result.summary).toContain('```mermaid\nflowchart LR');
    expect(result.summary).toContain('s_extract --> s_clean');
    expect(result.summary).toMatch(/\| 2 \| embed \| self-hosted, gpu \|/);
    expect(JSON.parse(result.outputs.matrix).include).toContainEqual({ pipeline: 'rates', stage: 'embed', level: 2, 'runs-on': ['self-hosted', 'gpu'] });
  });

  it('plans with command: plan, giving the matrix of runner labels per stage without running anything', async () => {
    const workspace = tempFolder({ 'pipelines/rates.yml': VALID });
    const result = await runBundle(workspace, { inputs: { command: 'plan', pipeline: 'rates' } });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(JSON.parse(result.outputs.matrix).include.map((s: { stage: string; level: number }) => `${s.stage}@${s.level}`)).toEqual(['extract@0', 'clean@1', 'embed@2']);
    expect(result.summary).toContain('### rates');
    expect(existsSync(join(workspace, '.weir'))).toBe(false);
  });

  it('annotates each error on its file, line and column with the code as title, and fails the step', async () => {
    const workspace = tempFolder({ 'pipelines/rates.yml': VALID, 'pipelines/cycle.yml': CYCLE });
    const result = await runBundle(workspace, { inputs: { command: 'validate' } });
    expect(result.code).toBe(1);
    expect(result.outputs.status).toBe('invalid');
    const [error] = annotations(result.stdout, 'error');
    expect(error).toMatch(/^::error title=WEIR202,file=pipelines\/cycle\.yml,line=5,endLine=5,col=12(,endColumn=\d+)?::stages form a cycle: a → c → b → a/);
    expect(result.summary).toContain('| ❌ error | WEIR202 | pipelines/cycle.yml:5:12 | stages form a cycle');
    expect(result.stdout).toContain('::error::weir validate: 2 pipeline files checked: 1 error, 0 warnings; see the annotations and the job summary');
  });

  it('annotates paths from the repository root when the project is in a working-directory below it', async () => {
    const workspace = tempFolder({ 'etl/pipelines/cycle.yml': CYCLE });
    const result = await runBundle(workspace, { inputs: { command: 'validate', 'working-directory': 'etl' } });
    expect(result.code).toBe(1);
    expect(annotations(result.stdout, 'error')[0]).toContain('file=etl/pipelines/cycle.yml,line=5');
  });

  it('shows 8 errors, folds the rest into a ninth pointing at the summary (which lists all), and keeps the tenth for the step failure', async () => {
    const files = Object.fromEntries(Array.from({ length: 13 }, (_, i) => [`pipelines/broken${String(i).padStart(2, '0')}.yml`, missingNeed(i)]));
    const workspace = tempFolder(files);
    const result = await runBundle(workspace, { inputs: { command: 'validate' } });
    expect(result.code).toBe(1);
    const errors = annotations(result.stdout, 'error');
    expect(errors).toHaveLength(10);
    expect(errors.slice(0, 8).every((line) => /file=pipelines\/broken0\d\.yml,line=5/.test(line))).toBe(true);
    expect(errors[8]).toMatch(/^::error title=5 more errors::5 more errors \(WEIR\d+\) are not annotated here: GitHub shows 10 per step\. The job summary lists every diagnostic\./);
    expect(errors[9]).toMatch(/^::error::weir validate: 13 pipeline files checked: 13 errors/);
    expect(result.summary.match(/\| ❌ error \|/g)).toHaveLength(13);
  });

  it('refuses an unknown pipeline name and a bad command, naming the input', async () => {
    const workspace = tempFolder({ 'pipelines/rates.yml': VALID });
    const unknown = await runBundle(workspace, { inputs: { command: 'validate', pipeline: 'ratez' } });
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain("::error::weir: input 'pipeline': no pipeline 'ratez' in pipelines/; pipelines: rates");
    const bad = await runBundle(workspace, { inputs: { command: 'deploy' } });
    expect(bad.stdout).toContain("::error::weir: input 'command': 'deploy' is not a command; use one of validate, plan, run");
  });
});
