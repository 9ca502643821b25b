/** Failures of the ledger on a git branch, each saying what happened, on which branch, and the fix. */

/** The branch exists but weir did not create it (no marker file): maybe the user's code branch. */
export class ForeignLedgerBranchError extends Error {
  constructor(branch: string) {
    super(
      `branch '${branch}' is not a weir ledger (no .weir-ledger file at its root), so weir will not write to it; ` +
        `choose another branch (--ledger git:<branch>, or the Action's 'ledger-branch' input) or delete '${branch}' so weir creates it`,
    );
    this.name = 'ForeignLedgerBranchError';
  }
}

/** A file on the ledger branch cannot be read: edited by hand or damaged. */
export class CorruptLedgerBranchError extends Error {
  constructor(branch: string, path: string, problem: string, cause?: unknown) {
    super(`ledger branch '${branch}': ${path} ${problem}; restore it from an earlier commit of '${branch}' (git log ${branch} -- ${path})`, { cause });
    this.name = 'CorruptLedgerBranchError';
  }
}

/** Every push lost the race to other writers, attempt after attempt. */
export class LedgerPushConflictError extends Error {
  constructor(branch: string, runId: string, attempts: number) {
    super(
      `could not record run ${runId} on ledger branch '${branch}': the branch moved under ${attempts} push attempts in a row; ` +
        `finish the run again later (recording is idempotent), or serialise writers with a workflow 'concurrency' group`,
    );
    this.name = 'LedgerPushConflictError';
  }
}
