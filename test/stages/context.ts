/**
 * A minimal, real `StageContext` for stage tests: a temp project root, a real DuckDB file, a run
 * folder, a logger that records every line, `fetch`/`download` through the real policy code (no retries
 * unless a policy says so, zero-delay sleep) and a `deadLetter` that records every letter.
 * `dispose()` closes the database and removes it all.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database } from '../../src/model/database.ts';
import { openDuckDb } from '../../src/adapters/duckdb.ts';
import { downloadWithPolicy, fetchWithPolicy } from '../../src/policies/http.ts';
import { EMPTY_POLICY_CONFIG, resolvePolicy, type ResolvedPolicy } from '../../src/policies/policy.ts';
import type { DeadLetterOrigin, StageContext } from '../../src/stages/stage-kind.ts';
import { resolveWritePath } from '../../src/model/write-paths.ts';
import { PermanentStageError } from '../../src/policies/errors.ts';

export interface LoggedLine {
  stream: 'info' | 'warn' | 'stdout' | 'stderr';
  line: string;
  at: number;
}

export interface RecordedLetter {
  record: unknown;
  reason: string;
  origin?: DeadLetterOrigin;
}

export interface TestContext extends StageContext {
  lines: LoggedLine[];
  /** Every ctx.deadLetter call, in order. */
  letters: RecordedLetter[];
  /** Every request retry ctx.fetch made: the error message and the wait it would have slept. */
  retries: { error: string; delayMs: number }[];
  /** Lines of one stream, in order. */
  logged(stream: LoggedLine['stream']): string[];
  dispose(): Promise<void>;
}

export interface TestContextOptions {
  stage?: string;
  signal?: AbortSignal;
  env?: Record<string, string | undefined>;
  /** Content hashes that earlier runs processed. */
  processed?: Iterable<string>;
  /** Folders outside the root that stages may write to (weir.yml allow_write_paths). */
  allowWritePaths?: readonly string[];
  /** Reuse a root (and database) across "runs". */
  root?: string;
  db?: Database;
  /** Policy ctx.fetch runs under. Default: no retries. */
  policy?: ResolvedPolicy;
}

export async function createTestContext(options: TestContextOptions = {}): Promise<TestContext> {
  const root = options.root ?? (await mkdtemp(join(tmpdir(), 'weir-stage-')));
  const runId = `run-${Math.random().toString(36).slice(2, 8)}`;
  const runDir = join(root, '.weir', 'runs', runId);
  await mkdir(runDir, { recursive: true });
  const ownsDb = options.db === undefined;
  const db = options.db ?? (await openDuckDb(join(runDir, 'run.duckdb')));
  const processed = new Set(options.processed ?? []);
  const lines: LoggedLine[] = [];
  const record = (stream: LoggedLine['stream']) => (line: string) => lines.push({ stream, line, at: Date.now() });
  const env = options.env ?? {};
  const signal = options.signal ?? new AbortController().signal;
  const letters: RecordedLetter[] = [];
  const retries: TestContext['retries'] = [];
  const policy = options.policy ?? resolvePolicy({ retries: 0 }, EMPTY_POLICY_CONFIG);
  const stage = options.stage ?? 'stage';
  const policyDeps = {
    stage,
    signal,
    sleep: async () => {},
    random: () => 0.5,
    onRetry: (_attempt: number, error: Error, delayMs: number) => void retries.push({ error: error.message, delayMs }),
  };
  return {
    writePath: (path: string, field: string) => {
      const checked = resolveWritePath(root, path, options.allowWritePaths ?? []);
      if (!checked.ok) throw new PermanentStageError(`${field} '${path}' is outside the project: ${checked.reason}`);
      return checked.resolved;
    },
    runId,
    pipeline: 'test-pipeline',
    stage,
    attempt: 1,
    signal,
    db,
    root,
    runDir,
    // Enough of the template language for tests: `{{ env.NAME }}`.
    render: (template) => template.replaceAll(/\{\{\s*env\.(\w+)\s*\}\}/g, (_, name: string) => env[name] ?? ''),
    log: { info: record('info'), warn: record('warn'), stdout: record('stdout'), stderr: record('stderr') },
    fetch: (url, init = {}) => fetchWithPolicy(url, init, policy, policyDeps),
    download: (url, init = {}, file) => downloadWithPolicy(url, init, file, policy, policyDeps),
    deadLetter: (record, reason, origin) => void letters.push({ record, reason, origin }),
    letters,
    retries,
    state: { isFileProcessed: (hash) => processed.has(hash), watermark: () => undefined },
    env,
    lines,
    logged: (stream) => lines.filter((l) => l.stream === stream).map((l) => l.line),
    async dispose() {
      if (ownsDb) await db.close();
      if (options.root === undefined) await rm(root, { recursive: true, force: true });
    },
  };
}
