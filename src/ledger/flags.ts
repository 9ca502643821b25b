/**
 * Ledger flags (gates issue): small named JSON values that `gate` stages wait on. A flag lives in a
 * scope (a pipeline, or every pipeline: GLOBAL_FLAG_SCOPE), optionally per key (a document id).
 * Each flag is its own file (`.flags/<scope>/<name>.json`, `.flags/<scope>/<name>/<key>.json`), so
 * two writers of different flags never read-modify-write the same file and no update is lost.
 * Pure: paths, encoding and how a gate sees the flags.
 */

/** The scope of flags every pipeline sees (not a valid pipeline name, so it cannot clash). */
export const GLOBAL_FLAG_SCOPE = '@global';

/** The folder of the ledger (or ledger branch) that holds flags; starts with '.', so it is no pipeline. */
export const FLAGS_DIR = '.flags';

export interface Flag {
  /** A pipeline name, or GLOBAL_FLAG_SCOPE. */
  scope: string;
  name: string;
  /** Set for a per-key flag (e.g. a document id). */
  key?: string;
  /** Any JSON value. */
  value: unknown;
  /** Who set it: `USER`/`GITHUB_ACTOR`, or `run <id>` for a stage's `sets:`. */
  by: string;
  /** ISO 8601. */
  at: string;
}

/** A change to one flag: a new value, or `unset: true` to remove it. */
export type FlagWrite = Omit<Flag, 'value'> & ({ value: unknown; unset?: false } | { unset: true; value?: undefined });

/** A flag as a stage's `sets:` produced it, before the run commits (who and when are added then). */
export interface FlagSet {
  scope: string;
  name: string;
  key?: string;
  value: unknown;
}

/** The writes of a succeeded run's `sets:` (its commit's flags), signed by the run. */
export function flagWritesOf(runId: string, at: string, flags: readonly FlagSet[]): FlagWrite[] {
  return flags.map((flag) => ({ ...flag, by: `run ${runId}`, at }));
}

/** Keys may hold any text: encoded so they are one safe path segment (no '/', no leading '.'). */
export function encodeFlagKey(key: string): string {
  return encodeURIComponent(key).replaceAll('.', '%2E').replaceAll('*', '%2A');
}

export function decodeFlagKey(segment: string): string {
  return decodeURIComponent(segment);
}

/** The flag's path relative to the flags folder: `<scope>/<name>.json` or `<scope>/<name>/<key>.json`. */
export function flagPath(flag: Pick<Flag, 'scope' | 'name' | 'key'>): string {
  return flag.key === undefined ? `${flag.scope}/${flag.name}.json` : `${flag.scope}/${flag.name}/${encodeFlagKey(flag.key)}.json`;
}

/** Identity of a flag, for maps and sorting. */
export function flagId(flag: Pick<Flag, 'scope' | 'name' | 'key'>): string {
  return flag.key === undefined ? `${flag.scope}/${flag.name}` : `${flag.scope}/${flag.name}[${flag.key}]`;
}

export function sortFlags(flags: Flag[]): Flag[] {
  return flags.sort((a, b) => (flagId(a) < flagId(b) ? -1 : flagId(a) > flagId(b) ? 1 : 0));
}

/**
 * What `flags.<name>` reads in a gate of `pipeline` (with an optional key): the most specific flag
 * wins — the pipeline's flag for the key, the global one for the key, the pipeline's flag, the global one.
 */
export function flagsForGate(pipelineFlags: readonly Flag[], globalFlags: readonly Flag[], key?: string): Record<string, unknown> {
  const view: Record<string, unknown> = {};
  const layers = [
    globalFlags.filter((f) => f.key === undefined),
    pipelineFlags.filter((f) => f.key === undefined),
    key === undefined ? [] : globalFlags.filter((f) => f.key === key),
    key === undefined ? [] : pipelineFlags.filter((f) => f.key === key),
  ];
  for (const layer of layers) for (const flag of layer) view[flag.name] = flag.value;
  return view;
}

/** Parses `name=value` from the CLI: the value as JSON when it parses (true, 3, "x", [1]), else as text. */
export function parseFlagAssignment(text: string): { name: string; value: unknown } | undefined {
  const eq = text.indexOf('=');
  if (eq <= 0) return undefined;
  const name = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  try {
    return { name, value: JSON.parse(raw) };
  } catch {
    return { name, value: raw };
  }
}
