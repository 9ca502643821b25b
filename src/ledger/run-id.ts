/**
 * Run ids sort by start time: `20261201T150405.123Z-3f9a1c` (UTC start to the millisecond, then a
 * random suffix). Ids of the first ledger format, `20261201T150405Z-ab12`, still parse and sort.
 */
import { randomBytes } from 'node:crypto';

const RUN_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z-([0-9a-z]+)$/;

export interface ParsedRunId {
  startedAtMs: number;
  /** `YYYY-MM/DD`: the folder the run's record lives in (its UTC start day). */
  day: string;
  suffix: string;
}

function randomSuffix(): string {
  return randomBytes(3).toString('hex');
}

/** A new run id for a run started at `nowMs`; `random` returns the suffix (6 hex digits by default). */
export function newRunId(nowMs: number, random: () => string = randomSuffix): string {
  const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '');
  return `${stamp}-${random()}`;
}

/** The start time and suffix of a run id, or undefined for an id weir did not make. */
export function tryParseRunId(runId: string): ParsedRunId | undefined {
  const m = RUN_ID.exec(runId);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, ms = '000', suffix] = m;
  return { startedAtMs: Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`), day: `${y}-${mo}/${d}`, suffix };
}

/**
 * A string that sorts as the run id should: by start time to the millisecond (first-format ids
 * count as .000), then suffix. Ids weir did not make (tests, imports) sort by string order among
 * themselves, before every id weir made. Sorting by precomputed keys keeps a 10,000-name listing
 * cheap (a regex per comparison costs more than reading the folder).
 */
export function runIdSortKey(runId: string): string {
  const m = RUN_ID.exec(runId);
  if (!m) return `0${runId}`;
  const [, y, mo, d, h, mi, s, ms = '000', suffix] = m;
  return `1${y}${mo}${d}T${h}${mi}${s}.${ms}Z-${suffix}`;
}

/** Orders run ids as `runIdSortKey` does. */
export function compareRunIds(a: string, b: string): number {
  const ka = runIdSortKey(a);
  const kb = runIdSortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** Run ids newest first. */
export function sortNewestFirst(runIds: string[]): string[] {
  return runIds
    .map((id) => [runIdSortKey(id), id] as const)
    .sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0))
    .map(([, id]) => id);
}
