/**
 * The Action's ledger: the `ledger-branch` of the repository the job checked out (a GitLedgerStore,
 * pushed with the job's token), so run history, state and recovery survive the runner. A workspace
 * that is not a git checkout with an `origin` remote falls back to the file ledger under
 * `<working-directory>/.weir/ledger`, with a warning: the runner throws it away at the end of the job.
 */
import { createGit, GitUnavailableError } from '../adapters/git.ts';
import type { ActionsRuntime } from '../adapters/github-actions.ts';
import { GitLedgerStore } from '../ledger/git-ledger-store.ts';
import type { LedgerStore } from '../ledger/ledger-store.ts';
import type { ActionInputs } from './action-inputs.ts';

export async function openActionLedger(
  inputs: Pick<ActionInputs, 'workspace' | 'ledgerBranch' | 'token'>,
  env: Readonly<Record<string, string | undefined>>,
  runtime: Pick<ActionsRuntime, 'warning' | 'info'>,
): Promise<LedgerStore | undefined> {
  let git;
  try {
    git = await createGit(inputs.workspace, { token: inputs.token || undefined });
    await git.run(['remote', 'get-url', 'origin']);
  } catch (error) {
    const why = error instanceof GitUnavailableError ? 'it is not a git checkout' : 'it has no remote named origin';
    runtime.warning(`the ledger branch '${inputs.ledgerBranch}' is not used because ${inputs.workspace} ${why}: runs are recorded in .weir/ledger, which this job does not keep`);
    return undefined;
  }
  const ciRunId = env.GITHUB_RUN_ID ? `${env.GITHUB_RUN_ID}-${env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined;
  const store = new GitLedgerStore(git, { branch: inputs.ledgerBranch, ciRunId });
  const found = await store.refresh();
  runtime.info(found ? `ledger: branch '${inputs.ledgerBranch}' of origin` : `ledger: branch '${inputs.ledgerBranch}' does not exist yet; the first recorded run creates it`);
  return store;
}
