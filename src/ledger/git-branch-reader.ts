/**
 * Reads of the ledger branch at one commit, without a checkout: names from `git ls-tree`, contents
 * from one `git cat-file --batch` per batch. A listing with a limit reads only as many run files
 * as it needs (names are cheap; contents are read in batches of what is still missing).
 */
import type { PipelineState } from '../model/state.ts';
import type { GitClient } from './git-client.ts';
import { assertLedgerMarker, MARKER_PATH, parseBranchJson, parseState, runIdOfPath, statePath } from './git-branch-layout.ts';
import type { RunQuery } from './ledger-store.ts';
import { compareRunIds, tryParseRunId } from './run-id.ts';
import { matchesQuery } from './run-query.ts';
import type { RunRecord } from './run-record.ts';

/** Records read at once when a listing has no limit. */
const READ_BATCH = 256;
const MONTH = /^\d{4}-\d{2}$/;

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

  /** Month folders of a pipeline (`YYYY-MM`), newest first. */
  async #months(tip: string, pipeline: string): Promise<string[]> {
    return (await this.#git.listNames(tip, `${pipeline}/runs`)).filter((n) => MONTH.test(n)).sort().reverse();
  }

  /** Run file paths under `dir`, newest run first. */
  async #runPathsUnder(tip: string, dir: string): Promise<string[]> {
    const paths = (await this.#git.listFiles(tip, dir)).filter((p) => runIdOfPath(p) !== undefined);
    return paths.sort((a, b) => compareRunIds(runIdOfPath(b)!, runIdOfPath(a)!));
  }

  async readRuns(tip: string, paths: string[]): Promise<RunRecord[]> {
    const texts = await this.#git.readFiles(tip, paths);
    return texts.flatMap((text, i) => (text === undefined ? [] : [parseBranchJson<RunRecord>(this.#branch, paths[i]!, text)]));
  }

  /**
   * A pipeline's finished runs, newest first, read until `query.limit` of them match: month by
   * month, so the newest 20 of 10,000 runs list one month's names and read 20 files.
   */
  async finishedRuns(tip: string, pipeline: string, query: RunQuery): Promise<RunRecord[]> {
    await this.assertLedger(tip);
    const found: RunRecord[] = [];
    let matched = 0;
    for (const month of await this.#months(tip, pipeline)) {
      const paths = await this.#runPathsUnder(tip, `${pipeline}/runs/${month}`);
      while (paths.length) {
        const wanted = query.limit === undefined ? READ_BATCH : query.limit - matched;
        if (wanted <= 0) return found;
        for (const record of await this.readRuns(tip, paths.splice(0, wanted))) {
          found.push(record);
          if (matchesQuery(record, query)) matched++;
        }
      }
    }
    return found;
  }

  /**
   * Paths of every run whose id starts with `prefix`, in any of `pipelines`. An exact id is looked
   * up by path; a prefix naming a month or a day (`202611…`, `20261102…`) lists only that folder.
   */
  async runPathsMatching(tip: string, pipelines: string[], prefix: string): Promise<string[]> {
    await this.assertLedger(tip);
    const parsed = tryParseRunId(prefix);
    if (parsed) {
      const exact = pipelines.map((p) => `${p}/runs/${parsed.day}/${prefix}.json`);
      const texts = await this.#git.readFiles(tip, exact);
      const hits = exact.filter((_, i) => texts[i] !== undefined);
      if (hits.length) return hits;
    }
    const digits = /^(\d{4})(\d{2})(\d{2})?/.exec(prefix);
    const sub = digits ? `/${digits[1]}-${digits[2]}${digits[3] ? `/${digits[3]}` : ''}` : '';
    const paths = await Promise.all(pipelines.map((p) => this.#git.listFiles(tip, `${p}/runs${sub}`)));
    return paths.flat().filter((p) => runIdOfPath(p)?.startsWith(prefix));
  }

  /** Active records of CI runs on the branch (see GitBranchWriter.publishActive). */
  async activeRuns(tip: string, pipeline: string): Promise<RunRecord[]> {
    await this.assertLedger(tip);
    const paths = (await this.#git.listFiles(tip, `${pipeline}/active`)).filter((p) => p.endsWith('.json'));
    return this.readRuns(tip, paths);
  }
}
