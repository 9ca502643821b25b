/**
 * Writes schema/pipeline.schema.json (the JSON Schema editors use for completion and inline
 * errors) from the zod schemas, with each stage kind's `with` block under `if uses == kind`.
 *
 *   node scripts/generate-schema.ts          # write the file
 *   node scripts/generate-schema.ts --check  # exit 1 when the committed file is stale (CI)
 *
 * Draft-07: the newest draft VS Code's yaml-language-server handles fully.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { Pipeline } from '../src/model/pipeline.ts';
import { WeirConfigFile } from '../src/definitions/weir-config.ts';
import { PolicyInput } from '../src/policies/policy.ts';
import { ChannelConfig } from '../src/notify/channel-config.ts';
import { defaultStageKinds, type StageKindRegistry } from '../src/stages/registry.ts';

const SCHEMA_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'schema');

type JsonSchema = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType): JsonSchema {
  // io 'input': fields with defaults are optional in the file, as users write it.
  return z.toJSONSchema(schema, { target: 'draft-7', io: 'input', unrepresentable: 'any' }) as JsonSchema;
}

/** The pipeline schema with per-kind `with` schemas; pure, so the check mode compares text. */
export function buildPipelineSchema(kinds: StageKindRegistry): JsonSchema {
  const schema = toJsonSchema(Pipeline);
  const stages = (schema.properties as Record<string, JsonSchema>).stages;
  const stage = stages.additionalProperties as JsonSchema;
  const properties = stage.properties as Record<string, JsonSchema>;
  const names = [...kinds.keys()].sort();
  // anyOf keeps unknown kinds valid for the editor (weir validate reports them) but completes known ones.
  properties.uses = { ...properties.uses, anyOf: [{ enum: names }, { type: 'string' }] };
  // A stage's policy: a name, or inline policy fields (the full schema of src/policies).
  const { $schema: _p, ...policy } = toJsonSchema(PolicyInput);
  properties.policy = { description: properties.policy?.description, anyOf: [{ type: 'string' }, policy] };
  stage.allOf = names.map((name) => {
    const { $schema: _ignored, ...withSchema } = toJsonSchema(kinds.get(name)!.with);
    return {
      if: { properties: { uses: { const: name } }, required: ['uses'] },
      then: { properties: { with: { ...withSchema, description: kinds.get(name)!.summary } } },
    };
  });
  return { $id: 'https://weir.dev/schema/pipeline.schema.json', title: 'weir pipeline', ...schema };
}

/** The schema of weir.yml: its sections as weir validates them, with the full policy schema. */
export function buildConfigSchema(): JsonSchema {
  const config = WeirConfigFile.extend({
    policies: z.record(z.string(), PolicyInput).optional().describe('Named resilience policies; built-ins: default, gpu-bound, polite-api.'),
    channels: z.record(z.string(), ChannelConfig).optional().describe('Notification channels (email, slack, webhook) that pipelines name in notify.to.'),
  });
  return { $id: 'https://weir.dev/schema/weir.schema.json', title: 'weir project config (weir.yml)', ...toJsonSchema(config) };
}

function writeOrCheck(file: string, schema: JsonSchema): boolean {
  const target = path.join(SCHEMA_DIR, file);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  if (!process.argv.includes('--check')) {
    writeFileSync(target, text);
    console.log(`wrote schema/${file}`);
    return true;
  }
  let committed = '';
  try {
    committed = readFileSync(target, 'utf8');
  } catch {
    // A missing file is stale too.
  }
  if (committed === text) return true;
  console.error(`schema/${file} is stale: run node scripts/generate-schema.ts and commit the result`);
  return false;
}

function main(): void {
  const fresh = [writeOrCheck('pipeline.schema.json', buildPipelineSchema(defaultStageKinds())), writeOrCheck('weir.schema.json', buildConfigSchema())];
  if (fresh.includes(false)) process.exit(1);
  if (process.argv.includes('--check')) console.log('schema/ is up to date');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
