/**
 * The CLI's composition root: the one place that constructs adapters (the ledger store, the clock,
 * the stage kinds) and hands them to use cases as one dependencies object.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createGit } from '../adapters/git.ts';
import { findPipeline } from '../definitions/discover.ts';
import { FsLedgerStore } from '../ledger/fs-ledger-store.ts';
import { DEFAULT_LEDGER_BRANCH } from '../ledger/git-branch-layout.ts';
import { GitLedgerStore } from '../ledger/git-ledger-store.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import { defaultStageKinds, type StageKindRegistry } from '../stages/registry.ts';
import { UsageError } from './cli-io.ts';

export interface CliDeps {
  ledger: LedgerStore;
  clock: () => Date;
  kinds: StageKindRegistry;
  /** Whether the project defines a pipeline of this name (by file name or `name:`). */
  isPipeline: (name: string) => Promise<boolean>;
}

export interface CliDepsOptions {
  /**
   * `--ledger`: `fs` (`<root>/.weir/ledger`), `git` or `git:<branch>` (the fetched ledger branch).
   * Default: fs, or git when `.weir/ledger` does not exist and the `weir-ledger` branch does.
   */
  ledger?: string;
}

type LedgerChoice = { kind: 'fs' } | { kind: 'git'; branch: string; explicit: boolean };

function parseLedgerOption(value: string | undefined): LedgerChoice | undefined {
  if (value === undefined) return undefined;
  if (value === 'fs') return { kind: 'fs' };
  const git = /^git(?::(.+))?$/.exec(value);
  if (git) return { kind: 'git', branch: git[1] ?? DEFAULT_LEDGER_BRANCH, explicit: true };
  throw new UsageError(`--ledger must be 'fs', 'git' or 'git:<branch>', got '${value}'`);
}

/** The git ledger over the branch as fetched here (`git fetch origin <branch>`): reads only, no fetch. */
async function openGitLedger(root: string, choice: LedgerChoice): Promise<LedgerStore> {
  const fsStore = () => new FsLedgerStore(join(root, '.weir', 'ledger'));
  if (choice.kind === 'fs') return fsStore();
  const git = await createGit(root).catch((error: unknown) => {
    if (choice.explicit) throw error;
    return undefined; // not a git repository: the local ledger, as before
  });
  if (!git) return fsStore();
  const refs = [`refs/remotes/origin/${choice.branch}`, `refs/heads/${choice.branch}`];
  const found = (await Promise.all(refs.map((ref) => git.resolveCommit(ref)))).some(Boolean);
  if (found) return new GitLedgerStore(git, { branch: choice.branch });
  if (!choice.explicit) return fsStore();
  throw new UsageError(`no ledger branch '${choice.branch}' in ${root}: run 'git fetch origin ${choice.branch}' first (or pick another with --ledger git:<branch>)`);
}

/** A store opened on first use: choosing the git ledger needs git, which is asynchronous. */
function deferredLedger(open: () => Promise<LedgerStore>): LedgerStore {
  let opened: Promise<LedgerStore> | undefined;
  const store = () => (opened ??= open());
  return {
    readState: async (pipeline) => (await store()).readState(pipeline),
    saveActive: async (record) => (await store()).saveActive(record),
    finishRun: async (record, commit) => (await store()).finishRun(record, commit),
    listRuns: async (query) => (await store()).listRuns(query),
    getRun: async (id) => (await store()).getRun(id),
    pipelines: async () => (await store()).pipelines(),
    acquireLease: async (pipeline, owner, options) => (await store()).acquireLease(pipeline, owner, options),
    renewLease: async (lease) => (await store()).renewLease(lease),
    releaseLease: async (lease) => (await store()).releaseLease(lease),
    listLeases: async (pipeline) => (await store()).listLeases(pipeline),
    recover: async (options) => (await store()).recover(options),
    readControl: async (pipeline) => (await store()).readControl(pipeline),
    writeControl: async (pipeline, control) => (await store()).writeControl(pipeline, control),
    readFlags: async (scope) => (await store()).readFlags(scope),
    setFlags: async (writes) => (await store()).setFlags(writes),
  };
}

/** Adapters for a project at `root`: the local ledger lives in `<root>/.weir/ledger`. */
export function createCliDeps(root: string, options: CliDepsOptions = {}): CliDeps {
  const local = join(root, '.weir', 'ledger');
  const choice = parseLedgerOption(options.ledger);
  const ledger = choice
    ? deferredLedger(() => openGitLedger(root, choice))
    : existsSync(local)
      ? new FsLedgerStore(local)
      : deferredLedger(() => openGitLedger(root, { kind: 'git', branch: DEFAULT_LEDGER_BRANCH, explicit: false }));
  return {
    ledger,
    clock: () => new Date(),
    kinds: defaultStageKinds(),
    isPipeline: async (name) => (await findPipeline(name, root)).found,
  };
}
