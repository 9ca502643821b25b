#!/usr/bin/env node
// The GPU stage of pipelines/doc-embeddings.yml. A real one would load a model (sentence-transformers,
// an ONNX runtime, a vLLM server) and embed each body; this one derives a small deterministic vector
// from the text so the example runs anywhere. It reads $WEIR_INPUT and writes $WEIR_OUTPUT, one JSON
// object per line, as the command stage's `format: json` asks; $WEIR_SHARD says which shard it is.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const input = readFileSync(process.env.WEIR_INPUT, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
const embed = (text) => {
  const digest = createHash('sha256').update(text).digest();
  return Array.from({ length: 4 }, (_, i) => Math.round((digest.readUInt16BE(i * 2) / 65535) * 1e6) / 1e6);
};
const lines = input.map((doc) => JSON.stringify({ doc_id: doc.doc_id, vector: embed(doc.body) }));
writeFileSync(process.env.WEIR_OUTPUT, lines.length ? `${lines.join('\n')}\n` : '');
console.log(`embedded ${input.length} documents (shard ${process.env.WEIR_SHARD ?? '1'}/${process.env.WEIR_SHARDS ?? '1'})`);
