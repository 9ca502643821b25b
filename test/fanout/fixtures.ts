/**
 * A pipeline that is not in the repository's examples, for the fan-out tests: three runner labels
 * (the default, [self-hosted, gpu], highmem), the default label used in two disconnected places,
 * and a stage sharded three ways by a key. Its `command` stage is a shell script (awk), so it runs
 * anywhere; FAIL_SHARD=<i> makes shard i fail.
 */
import { openDuckDb } from '../../src/adapters/duckdb.ts';

export const FANOUT_PIPELINE = `name: fanout
stages:
  docs:
    uses: sql
    with: { query: "select i as doc_id, 'text number ' || i || repeat('x', i % 17) as body, i % 5 as topic from range(1, 1201) t(i)" }
    checks: [{ unique: [doc_id] }]
  topics:
    uses: sql
    with: { query: "select i as topic, 'topic ' || i as label from range(5) t(i)" }
  embed:
    uses: command
    needs: docs
    runs-on: [self-hosted, gpu]
    requires: [gpu]
    shards: 3
    shard_by: doc_id
    with: { script: scripts/embed.sh, input: docs, table: vectors, format: csv }
  rank:
    uses: sql
    needs: [embed, topics]
    runs-on: highmem
    with: { query: "select v.doc_id, v.score, t.label from vectors v join docs d using (doc_id) join topics t on t.topic = d.topic" }
  summary:
    uses: sql
    needs: rank
    with: { query: "select label, count(*) as n, sum(score) as total from rank group by label" }
`;

export const EMBED_SCRIPT = `#!/bin/sh
set -e
if [ -n "$FAIL_SHARD" ] && [ "$WEIR_SHARD" = "$FAIL_SHARD" ]; then echo "out of GPU memory on shard $WEIR_SHARD" >&2; exit 3; fi
awk -F, 'NR == 1 { print "doc_id,score"; next } { print $1 "," (length($2) * 7) % 13 }' "$WEIR_INPUT" > "$WEIR_OUTPUT"
echo "shard \${WEIR_SHARD:-1}/\${WEIR_SHARDS:-1}: $(($(wc -l < "$WEIR_INPUT") - 1)) rows"
`;

export const FANOUT_FILES = { 'pipelines/fanout.yml': FANOUT_PIPELINE, 'scripts/embed.sh': EMBED_SCRIPT };

/** Row count and an order-insensitive digest of a table (duplicates count: a sum, not a xor). */
export async function tableDigest(databasePath: string, table: string): Promise<{ rows: number; digest: string }> {
  const db = await openDuckDb(databasePath);
  try {
    const [row] = await db.query(`SELECT count(*)::INTEGER AS rows, sum(hash(t))::VARCHAR AS digest FROM "${table}" t`);
    return { rows: Number(row.rows), digest: String(row.digest) };
  } finally {
    await db.close();
  }
}
