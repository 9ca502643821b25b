/**
 * Run ids sort by start time: `20261201T150405.123Z-3f9a1c` (UTC start to the millisecond, then a
 * random suffix). Ids of the first ledger format, `20261201T150405Z-ab12`, still parse and sort.
 */
import { randomBytes } from 'node:crypto';

const RUN_ID = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z-([0-9a-z]+)$/;

export interface ParsedRunId {
  startedAtMs: number;
  /** `YYYY-MM`: the month folder the run's record lives in. */
  month: string;
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
  return { startedAtMs: Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`), month: `${y}-${mo}`, suffix };
}

/**
 * Orders run ids by start time, then suffix. Ids weir did not make (tests, imports) sort by string
 * order among themselves, before every id weir made.
 */
export function compareRunIds(a: string, b: string): number {
  const pa = tryParseRunId(a);
  const pb = tryParseRunId(b);
  if (pa && pb) return pa.startedAtMs - pb.startedAtMs || (pa.suffix < pb.suffix ? -1 : pa.suffix > pb.suffix ? 1 : 0);
  if (pa || pb) return pa ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}
