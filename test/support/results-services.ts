/**
 * The two Twirp services of the Actions results emulator, as maps of method name → handler over the
 * emulator's state. Field names are proto snake_case; int64 values travel as strings.
 */
import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store.ts';

export class TwirpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The run and job a runtime token grants (its `Actions.Results:<run>:<job>` scope). */
export interface Scope {
  run: string;
  job: string;
}

export type TwirpMethod = (body: Record<string, unknown>, scope: Scope) => unknown;

export interface StoredArtifact {
  id: number;
  name: string;
  runBackendId: string;
  jobBackendId: string;
  createdAt: string;
  finalized: boolean;
  size?: number;
  digest?: string;
  blobPath: string;
}

interface CacheEntry {
  id: number;
  key: string;
  version: string;
  createdAt: number;
  finalized: boolean;
  blobPath: string;
}

export interface ServiceContext {
  blobs: BlobStore;
  now(): number;
  nextId(): number;
  signedUrl(blobPath: string): string;
}

/** Writes must name the token's own run and job; reads (`readsOtherJobs`) may name another job of the same run, as a download of an artifact another job uploaded does. */
function assertIdsOfToken(body: Record<string, unknown>, scope: Scope, readsOtherJobs = false): void {
  if (body.workflow_run_backend_id !== scope.run || (!readsOtherJobs && body.workflow_job_run_backend_id !== scope.job)) {
    throw new TwirpError(403, 'permission_denied', 'the backend ids of the request are not those of the token');
  }
}

export function createArtifactService(ctx: ServiceContext, artifacts: StoredArtifact[]): Record<string, TwirpMethod> {
  const { blobs, now, signedUrl } = ctx;
  const findArtifact = (run: string, name: unknown) => artifacts.find((a) => a.runBackendId === run && a.name === name);
  return {
    CreateArtifact(body, scope) {
      assertIdsOfToken(body, scope);
      if (typeof body.name !== 'string' || body.name === '') throw new TwirpError(400, 'invalid_argument', 'name is required');
      if (findArtifact(scope.run, body.name)) throw new TwirpError(409, 'already_exists', `an artifact named '${body.name}' already exists in this run`);
      const id = ctx.nextId();
      const blobPath = `artifacts/${scope.run}/${id}/${encodeURIComponent(body.name)}.zip`;
      blobs.create(blobPath, 'application/zip');
      artifacts.push({ id, name: body.name, runBackendId: scope.run, jobBackendId: scope.job, createdAt: new Date(now()).toISOString(), finalized: false, blobPath });
      return { ok: true, signed_upload_url: signedUrl(blobPath) };
    },
    FinalizeArtifact(body, scope) {
      assertIdsOfToken(body, scope);
      const artifact = findArtifact(scope.run, body.name);
      if (!artifact || artifact.finalized) throw new TwirpError(404, 'not_found', `no artifact '${String(body.name)}' waits to be finalized`);
      const bytes = blobs.committed(artifact.blobPath);
      if (!bytes) throw new TwirpError(400, 'failed_precondition', 'the artifact blob was never committed');
      if (String(bytes.length) !== body.size) throw new TwirpError(400, 'invalid_argument', `size ${String(body.size)} differs from the ${bytes.length} bytes uploaded`);
      const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
      if (body.hash !== undefined && body.hash !== digest) throw new TwirpError(400, 'invalid_argument', `hash ${String(body.hash)} differs from ${digest}`);
      Object.assign(artifact, { finalized: true, size: bytes.length, digest });
      return { ok: true, artifact_id: String(artifact.id) };
    },
    ListArtifacts(body, scope) {
      assertIdsOfToken(body, scope);
      const listed = artifacts.filter((a) => a.finalized && a.runBackendId === scope.run)
        .filter((a) => body.name_filter === undefined || a.name === body.name_filter)
        .filter((a) => body.id_filter === undefined || String(a.id) === body.id_filter);
      return {
        artifacts: listed.map((a) => ({
          workflow_run_backend_id: a.runBackendId, workflow_job_run_backend_id: a.jobBackendId, database_id: String(a.id),
          name: a.name, size: String(a.size), created_at: a.createdAt, digest: a.digest,
        })),
      };
    },
    GetSignedArtifactURL(body, scope) {
      assertIdsOfToken(body, scope, true);
      const artifact = findArtifact(scope.run, body.name);
      if (!artifact?.finalized) throw new TwirpError(404, 'not_found', `no artifact named '${String(body.name)}'`);
      return { signed_url: signedUrl(artifact.blobPath) };
    },
    DeleteArtifact(body, scope) {
      assertIdsOfToken(body, scope);
      const artifact = findArtifact(scope.run, body.name);
      if (!artifact) throw new TwirpError(404, 'not_found', `no artifact named '${String(body.name)}'`);
      artifacts.splice(artifacts.indexOf(artifact), 1);
      blobs.delete(artifact.blobPath);
      return { ok: true, artifact_id: String(artifact.id) };
    },
  };
}

export function createCacheService(ctx: ServiceContext, caches: CacheEntry[] = []): Record<string, TwirpMethod> {
  const { blobs, now, signedUrl } = ctx;
  return {
    CreateCacheEntry(body) {
      if (caches.some((c) => c.key === body.key && c.version === body.version)) throw new TwirpError(409, 'already_exists', `cache entry '${String(body.key)}' already exists`);
      const id = ctx.nextId();
      const blobPath = `caches/${id}/cache.tzst`;
      blobs.create(blobPath, 'application/octet-stream');
      caches.push({ id, key: String(body.key), version: String(body.version), createdAt: now() + id / 1e6, finalized: false, blobPath });
      return { ok: true, signed_upload_url: signedUrl(blobPath) };
    },
    FinalizeCacheEntryUpload(body) {
      const entry = caches.find((c) => c.key === body.key && c.version === body.version && !c.finalized);
      if (!entry) throw new TwirpError(404, 'not_found', `no cache entry '${String(body.key)}' waits to be finalized`);
      const bytes = blobs.committed(entry.blobPath);
      if (!bytes || String(bytes.length) !== body.size_bytes) throw new TwirpError(400, 'invalid_argument', `size_bytes ${String(body.size_bytes)} differs from the upload`);
      entry.finalized = true;
      return { ok: true, entry_id: String(entry.id) };
    },
    GetCacheEntryDownloadURL(body) {
      const entry = matchCacheEntry(caches, String(body.key), (body.restore_keys as string[] | undefined) ?? [], String(body.version));
      if (!entry) return { ok: false, signed_download_url: '', matched_key: '' };
      return { ok: true, signed_download_url: signedUrl(entry.blobPath), matched_key: entry.key };
    },
  };
}

/** Restore order of the cache service: the exact key, then the key as a prefix, then each restore key (exact, then prefix); newest first. */
function matchCacheEntry(entries: readonly CacheEntry[], key: string, restoreKeys: readonly string[], version: string): CacheEntry | undefined {
  const candidates = entries.filter((e) => e.finalized && e.version === version).sort((a, b) => b.createdAt - a.createdAt);
  for (const wanted of [key, ...restoreKeys]) {
    const found = candidates.find((e) => e.key === wanted) ?? candidates.find((e) => e.key.startsWith(wanted));
    if (found) return found;
  }
  return undefined;
}
