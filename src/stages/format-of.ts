/**
 * The one place that tells a data format from a file name or an HTTP content-type (used by
 * `files`, `export` and `http`). Callers decide what an unknown format means for them.
 */

export type DataFormat = 'csv' | 'json' | 'ndjson' | 'parquet';

const BY_EXTENSION: readonly [RegExp, DataFormat][] = [
  [/\.(csv|tsv|txt)$/, 'csv'],
  [/\.json$/, 'json'],
  [/\.(jsonl|ndjson)$/, 'ndjson'],
  [/\.(parquet|pq)$/, 'parquet'],
];

/**
 * The format a file name implies (`.gz` / `.zst` looked through), or undefined when its extension
 * says nothing. With `contentType`, the format an HTTP answer declares: csv when it says so, else
 * json (APIs often send JSON as text/plain).
 */
export function formatOf(source: { path: string } | { contentType: string | null }): DataFormat | undefined {
  if ('contentType' in source) {
    const type = source.contentType ?? '';
    if (/csv/i.test(type)) return 'csv';
    return /(ndjson|jsonl|jsonlines)/i.test(type) ? 'ndjson' : 'json';
  }
  const name = source.path.toLowerCase().replace(/\.(gz|zst)$/, '');
  return BY_EXTENSION.find(([pattern]) => pattern.test(name))?.[1];
}
