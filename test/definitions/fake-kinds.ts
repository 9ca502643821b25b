/**
 * Small stage kinds for spec tests, shaped like the real ones, so these tests pin validation
 * messages without depending on how the real kinds evolve.
 */
import { z } from 'zod';
import type { AnyStageKind, StageKindRegistry } from '../../src/stages/registry.ts';

const notRun = async (): Promise<never> => {
  throw new Error('validation must never run a stage');
};

const sql: AnyStageKind = {
  name: 'sql',
  summary: 'DuckDB SQL.',
  with: z
    .strictObject({
      query: z.string().min(1).optional(),
      file: z.string().min(1).optional(),
      table: z.string().min(1).optional(),
      materialize: z.enum(['table', 'view', 'none']).optional(),
    })
    .refine((c) => (c.query === undefined) !== (c.file === undefined), 'give exactly one of query or file'),
  producesTable: true,
  references(config: { query?: string; file?: string }) {
    if (config.file) return [{ field: ['file'], path: config.file }];
    const query = config.query?.trim();
    return query && /^[^\s;]+\.sql$/i.test(query) ? [{ field: ['query'], path: query }] : [];
  },
  run: notRun,
};

const http: AnyStageKind = {
  name: 'http',
  summary: 'Fetch JSON from an API.',
  with: z.strictObject({ url: z.string().min(1), method: z.enum(['GET', 'POST']).optional(), pages: z.number().int().positive().optional() }),
  producesTable: true,
  run: notRun,
};

const command: AnyStageKind = {
  name: 'command',
  summary: 'Run a script.',
  with: z.strictObject({ run: z.string().min(1), script: z.string().optional() }),
  producesTable: false,
  references(config: { script?: string }) {
    return config.script ? [{ field: ['script'], path: config.script }] : [];
  },
  run: notRun,
};

const exportKind: AnyStageKind = {
  name: 'export',
  summary: 'Write a table to a file.',
  with: z.strictObject({ table: z.string().min(1), path: z.string().min(1) }),
  producesTable: false,
  run: notRun,
};

const files: AnyStageKind = {
  name: 'files',
  summary: 'Load new files from a folder.',
  with: z.strictObject({ path: z.string().min(1), archive: z.string().min(1).optional() }),
  producesTable: true,
  run: notRun,
};

export function fakeStageKinds(): StageKindRegistry {
  return new Map([sql, http, command, exportKind, files].map((kind) => [kind.name, kind]));
}
