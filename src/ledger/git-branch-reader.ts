/**
 * Reads of the ledger branch at one commit, without a checkout: names from `git ls-tree`, contents
 * from one `git cat-file --batch` per batch. A listing with a limit reads only as many run files
 * as it needs (names are cheap; contents are read in batches of what is still missing).
 */
import type { PipelineState } from '../model/state.ts';
import type { GitClient } from './git-client.ts';
import { assertLedgerMarker, MARKER_PATH, parseBranchJson, parseState, runIdOfPath, statePath } from './git-branch-layout.ts';
import type { RunQuery } from './ledger-store.ts';
import { compareRunIds } from './run-id.ts';
import { matchesQuery } from './run-query.ts';
import type { RunRecord } from './run-record.ts';

/** Records read at once when a listing has no limit. */
const READ_BATCH = 256;

export class GitBranchReader {
  readonly #git: GitClient;
  readonly #branch: string;
  readonly #verified = new Set<string>();

  constructor(git: GitClient, branch: string) {
    this.#git = git;
    this.#branch = branch;
  }

  /** Throws ForeignLedgerBranchError / CorruptLedgerBranchError unless `tip` is a weir ledger. */
  async assertLedger(tip: string): Promise<void> {
    if (this.#verified.has(tip)) return;
    const [marker] = await this.#git.readFiles(tip, [MARKER_PATH]);
    assertLedgerMarker(this.#branch, marker);
    this.#verified.add(tip);
  }

  async pipelines(tip: string): Promise<string[]> {
    await this.assertLedger(tip);
    return (await this.#git.listNames(tip, '')).filter((name) => !name.startsWith('.'));
  }

  async readState(tip: string, pipeline: string): Promise<PipelineState> {
    await this.assertLedger(tip);
    const [text] = await this.#git.readFiles(tip, [statePath(pipeline)]);
    return parseState(this.#branch, pipeline, text);
  }

  async hasFile(tip: string, path: string): Promise<boolean> {
    const [text] = await this.#git.readFiles(tip, [path]);
    return text !== undefined;
  }

  /** Run file paths of a pipeline, newest run first. */
  async runPaths(tip: string, pipeline: string): Promise<string[]> {
    await this.assertLedger(tip);
    const paths = (await this.#git.listFiles(tip, `${pipeline}/runs`)).filter((p) => runIdOfPath(p) !== undefined);
    return paths.sort((a, b) => compareRunIds(runIdOfPath(b)!, runIdOfPath(a)!));
  }

  async readRuns(tip: string, paths: string[]): Promise<RunRecord[]> {
    const texts = await this.#git.readFiles(tip, paths);
    return texts.flatMap((text, i) => (text === undefined ? [] : [parseBranchJson<RunRecord>(this.#branch, paths[i]!, text)]));
  }

  /** A pipeline's finished runs, newest first, read until `query.limit` of them match. */
  async finishedRuns(tip: string, pipeline: string, query: RunQuery): Promise<RunRecord[]> {
    const paths = await this.runPaths(tip, pipeline);
    const found: RunRecord[] = [];
    let matched = 0;
    while (paths.length) {
      const wanted = query.limit === undefined ? READ_BATCH : query.limit - matched;
      if (wanted <= 0) break;
      for (const record of await this.readRuns(tip, paths.splice(0, wanted))) {
        found.push(record);
        if (matchesQuery(record, query)) matched++;
      }
    }
    return found;
  }

  /** Active records of CI runs on the branch (see GitBranchWriter.publishActive). */
  async activeRuns(tip: string, pipeline: string): Promise<RunRecord[]> {
    await this.assertLedger(tip);
    const paths = (await this.#git.listFiles(tip, `${pipeline}/active`)).filter((p) => p.endsWith('.json'));
    return this.readRuns(tip, paths);
  }

  /** Paths of every run whose id starts with `prefix`, in any pipeline. */
  async runPathsMatching(tip: string, prefix: string): Promise<string[]> {
    await this.assertLedger(tip);
    return (await this.#git.listFiles(tip, '')).filter((p) => runIdOfPath(p)?.startsWith(prefix));
  }
}
