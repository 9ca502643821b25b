/**
 * The git operations the git ledger needs, as a port: the ledger never spawns git itself (core
 * modules do not import node:child_process). `src/adapters/git.ts` implements it over the git CLI.
 */

/** One file of a commit being built: its path in the tree and its text. */
export interface TreeFile {
  path: string;
  content: string;
}

export interface CommitRequest {
  /** The commit the new one follows; undefined makes a root commit (a new orphan branch). */
  parent?: string;
  /** Files added or replaced on top of the parent's tree. */
  files: TreeFile[];
  /** Paths removed from the parent's tree (absent ones are ignored). */
  remove?: string[];
  message: string;
  author: { name: string; email: string };
}

/**
 * `fetched` with the tip; else `missing` (the remote has no such branch) or `ref-locked` (another
 * process of this clone is updating the tracking ref right now: try again shortly).
 */
export type FetchResult = { fetched: true; tip: string } | { fetched: false; reason: 'missing' | 'ref-locked' };

/** `rejected`: the remote moved on (not a fast-forward); anything else throws. */
export type PushResult = 'pushed' | 'rejected';

export interface GitClient {
  /** The repository's git folder (private files such as local leases live under it). */
  readonly gitDir: string;
  /** The commit a ref points at, or undefined when there is no such ref. */
  resolveCommit(ref: string): Promise<string | undefined>;
  /** Fetches `branch` from `remote` into `trackingRef` (shallow when the clone is shallow). */
  fetchBranch(remote: string, branch: string, trackingRef: string): Promise<FetchResult>;
  /** Contents of `<commit>:<path>` for each path, undefined where there is no such file. */
  readFiles(commit: string, paths: string[]): Promise<(string | undefined)[]>;
  /** Paths of the files under `dir` (recursive), or every file when `dir` is empty. */
  listFiles(commit: string, dir: string): Promise<string[]>;
  /** Names of the entries directly in `dir` (files and folders; `''` is the root). */
  listNames(commit: string, dir: string): Promise<string[]>;
  /** Writes blobs, tree and commit through plumbing (no checkout, no index of the user's). */
  createCommit(request: CommitRequest): Promise<string>;
  /** Plain (never forced) push of `commit` to `refs/heads/<branch>`: a compare-and-swap. */
  push(remote: string, commit: string, branch: string): Promise<PushResult>;
  /** Moves `ref` to `commit` if it is still at `expected` (undefined: whatever it is). */
  updateRef(ref: string, commit: string, expected?: string): Promise<boolean>;
}
