/**
 * Runs dist/index.js as the Actions runner does: a separate Node 24 process in the workspace, inputs
 * as INPUT_* variables, and the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV,
 * GITHUB_EVENT_PATH) in a temp folder. Everything it creates is removed when the test finishes.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { onTestFinished } from 'vitest';

const REPO = resolve(import.meta.dirname, '..', '..');
export const BUNDLE = join(REPO, 'dist', 'index.js');
const NODE24 = join(REPO, 'node_modules', '.bin', 'node');

export interface BundleRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** What the step wrote to GITHUB_OUTPUT, by output name. */
  outputs: Record<string, string>;
  /** The step summary file as the runner would upload it. */
  summary: string;
}

export interface BundleOptions {
  /** Action inputs by name (`pipeline`, `params`, …), as `with:` gives them. */
  inputs: Record<string, string>;
  /** More environment (the GITHUB_* context, secrets mapped with `env:`). */
  env?: Record<string, string>;
  /** The webhook payload behind GITHUB_EVENT_PATH. */
  event?: unknown;
  /** Called with the child once it has started (to signal it). */
  onSpawn?(child: ReturnType<typeof spawn>): void;
}

/** A temp folder holding `files`, removed when the test finishes. */
export function tempFolder(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'weir-action-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** Parses the GITHUB_OUTPUT file: `name<<delimiter`, the value's lines, `delimiter`. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^([^<=]+)<<(.+)$/.exec(lines[i]);
    if (!head) continue;
    const end = lines.indexOf(head[2], i + 1);
    outputs[head[1]] = lines.slice(i + 1, end).join('\n');
    i = end;
  }
  return outputs;
}

/** The environment of this process without anything a real runner around the tests would add. */
function cleanEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(INPUT_|GITHUB_|ACTIONS_|RUNNER_)/.test(name))) as Record<string, string>;
}

export function runBundle(workspace: string, options: BundleOptions): Promise<BundleRun> {
  const files = tempFolder();
  const paths = { GITHUB_OUTPUT: join(files, 'output'), GITHUB_STEP_SUMMARY: join(files, 'summary.md'), GITHUB_ENV: join(files, 'env'), GITHUB_EVENT_PATH: join(files, 'event.json') };
  for (const path of Object.values(paths)) writeFileSync(path, '');
  writeFileSync(paths.GITHUB_EVENT_PATH, JSON.stringify(options.event ?? {}));
  // The runner passes `with:` values as INPUT_<NAME upper-cased, spaces as _> (dashes kept).
  const inputs = Object.fromEntries(Object.entries(options.inputs).map(([name, value]) => [`INPUT_${name.replace(/ /g, '_').toUpperCase()}`, value]));
  const env = { ...cleanEnv(), ...paths, GITHUB_WORKSPACE: workspace, GITHUB_ACTIONS: 'true', RUNNER_TEMP: files, ...inputs, ...options.env };
  return new Promise((done, fail) => {
    const child = spawn(NODE24, [BUNDLE], { cwd: workspace, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, outputs: parseOutputFile(readFileSync(paths.GITHUB_OUTPUT, 'utf8')), summary: readFileSync(paths.GITHUB_STEP_SUMMARY, 'utf8') }));
    options.onSpawn?.(child);
  });
}
