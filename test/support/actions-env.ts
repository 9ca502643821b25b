/**
 * Test fixtures for code that runs the `@actions/*` clients: the environment variables a node action
 * gets from the runner, set for one test and restored after it, and a temp folder removed after it.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

/** Sets (or, for `undefined`, unsets) environment variables until the current test finishes. */
export function useEnv(vars: Readonly<Record<string, string | undefined>>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(vars)) setOrUnset(name, value);
  onTestFinished(() => {
    for (const [name, value] of Object.entries(saved)) setOrUnset(name, value);
  });
}

function setOrUnset(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

/** A temp folder removed when the current test finishes. */
export function useTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * What the clients need to reach the emulator: its URL and token, the cache service v2, no
 * GITHUB_SERVER_URL (the clients refuse GHES), and RUNNER_TEMP/GITHUB_WORKSPACE in `dir` (the cache
 * client would otherwise write under /home/actions/temp).
 */
export function useActionsRuntime(emulatorEnv: Readonly<Record<string, string>>, dir: string): void {
  useEnv({ ...emulatorEnv, GITHUB_SERVER_URL: undefined, RUNNER_TEMP: dir, GITHUB_WORKSPACE: dir });
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
