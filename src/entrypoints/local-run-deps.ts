/**
 * The CLI's composition root for runs: the one place that builds the adapters a local run uses
 * (the file ledger and run folders under `.weir/`, DuckDB, the system clock, this machine's
 * hardware and process identity). Tests build the same object with their own parts.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { openDuckDb } from '../adapters/duckdb.ts';
import { FsWorkspaceStore } from '../adapters/fs-run-workspace.ts';
import { createActionsStageCache, hasResultsService } from '../adapters/actions-stage-cache.ts';
import { createGpuProbe } from '../adapters/hardware.ts';
import { FsLedgerStore } from '../ledger/fs-ledger-store.ts';
import { sleep } from '../policies/retry.ts';
import type { RunDeps } from '../use-cases/run-deps.ts';

export interface LocalRunOptions {
  root: string;
  /** Folder for run folders and the ledger. Default `<root>/.weir`. */
  stateDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

/** The GitHub Actions run id and attempt, when running in Actions. */
function ciRunId(env: Readonly<Record<string, string | undefined>>): string | undefined {
  return env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined;
}

/**
 * Test seam: `WEIR_TEST_CRASH_AT=<step>` (a ledger step, a run checkpoint, or `transaction-commit`:
 * just before a database transaction commits, e.g. a load's delete and insert) kills this process with
 * SIGKILL at exactly that point, so crash tests need no timing. Unset in normal use.
 */
function crashAt(step: string | undefined): ((at: string) => void) | undefined {
  if (!step) return undefined;
  return (at) => {
    if (at === step) process.kill(process.pid, 'SIGKILL');
  };
}

export function createLocalRunDeps(options: LocalRunOptions, overrides: Partial<RunDeps> = {}): RunDeps {
  const stateDir = resolve(options.root, options.stateDir ?? '.weir');
  const env = options.env ?? process.env;
  const crash = crashAt(env.WEIR_TEST_CRASH_AT);
  // One probe per process's deps: nvidia-smi runs at most once, and only if a stage requires a GPU.
  const gpu = createGpuProbe({ env });
  return {
    ledger: new FsLedgerStore(join(stateDir, 'ledger'), crash ? { hooks: { afterStep: crash } } : {}),
    checkpoint: crash,
    workspaces: new FsWorkspaceStore(join(stateDir, 'runs')),
    openDatabase: (path, { searchPath }) => openDuckDb(path, { searchPath, beforeCommit: crash && (() => crash('transaction-commit')) }),
    clock: { now: Date.now, sleep, random: Math.random },
    detectResource: () => gpu(),
    env,
    host: { hostname: hostname(), pid: process.pid, ciRunId: ciRunId(env) },
    killProcessGroup: (pgid) => {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    },
    ...(hasResultsService(env) ? { stageCache: createActionsStageCache() } : {}),
    ...overrides,
  };
}
