/** Failures of the ledger itself, each with what happened, where, and what to do. */

/** A run id prefix (`weir history 2026`) matches more than one run. */
export class AmbiguousRunIdError extends Error {
  readonly matches: string[];

  constructor(prefix: string, matches: string[]) {
    const shown = matches.slice(0, 10).join(', ') + (matches.length > 10 ? `, … (${matches.length} in all)` : '');
    super(`run id prefix '${prefix}' matches ${matches.length} runs (${shown}); give more characters of the run id`);
    this.name = 'AmbiguousRunIdError';
    this.matches = matches;
  }
}

/** A ledger file cannot be parsed: written by something other than weir, or damaged on disk. */
export class LedgerFileError extends Error {
  constructor(file: string, cause: unknown) {
    super(`ledger file ${file} is not valid JSON; restore it from git or delete it if it holds nothing you need`, { cause });
    this.name = 'LedgerFileError';
  }
}
