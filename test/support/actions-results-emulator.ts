/**
 * A local emulator of the GitHub Actions results service, enough for the real `@actions/artifact`
 * and `@actions/cache` (v2) clients: Twirp JSON for ArtifactService and CacheService, and the Azure
 * blob endpoints their signed URLs point at (staged blocks + block list, single PUT, GET/HEAD).
 * Protocol: /work/shared/reference/github-actions.md and actions/toolkit's clients.
 *
 * Bytes are kept in memory. It listens on 127.0.0.1 with an ephemeral port; the test closes it
 * (`await using emulator = await startActionsResultsEmulator()`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobStore } from './blob-store.ts';

export const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';
export const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService';

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

/** One request as the emulator saw it: which Twirp method (or `blob`) and the status it answered. */
export interface EmulatorCall {
  method: string;
  status: number;
}

export interface EmulatorOptions {
  runBackendId?: string;
  jobBackendId?: string;
  /** Clock of `created_at` values. Default: Date.now. */
  now?: () => number;
}

export interface ActionsResultsEmulator extends AsyncDisposable {
  /** `http://127.0.0.1:<port>/`, the value of ACTIONS_RESULTS_URL. */
  readonly url: string;
  /** A JWT whose `scp` claim grants this emulator's run and job. */
  readonly runtimeToken: string;
  /** What the clients need in process.env (besides GITHUB_SERVER_URL unset). */
  readonly env: Readonly<Record<string, string>>;
  readonly calls: readonly EmulatorCall[];
  artifacts(): StoredArtifact[];
  /** The committed bytes of a finalized artifact (the zip the client uploaded). */
  artifactBytes(name: string): Buffer | undefined;
  /** Answers the next `times` requests to `method` (a Twirp method, or `blob`) with `status`. */
  failNext(method: string, status: number, times?: number): void;
  close(): Promise<void>;
}

class TwirpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Mints the unsigned-checked JWT the clients decode: `scp` holds `Actions.Results:<run>:<job>`. */
export function mintRuntimeToken(scp: string, extraClaims: Record<string, unknown> = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ scp, iat: now, exp: now + 3600, ...extraClaims })}.${randomBytes(16).toString('base64url')}`;
}

/** The `Actions.Results:<run>:<job>` scope of a bearer token, or undefined when it has none. */
function resultsScope(authorization: string | undefined): { run: string; job: string } | undefined {
  const token = authorization?.match(/^Bearer (.+)$/)?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { scp?: unknown };
    if (typeof claims.scp !== 'string') return undefined;
    for (const scope of claims.scp.split(' ')) {
      const [name, run, job, ...rest] = scope.split(':');
      if (name === 'Actions.Results' && run && job && rest.length === 0) return { run, job };
    }
  } catch {
    return undefined;
  }
  return undefined;
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

export async function startActionsResultsEmulator(options: EmulatorOptions = {}): Promise<ActionsResultsEmulator> {
  const runBackendId = options.runBackendId ?? 'a1b2c3d4-0000-4000-8000-000000000001';
  const jobBackendId = options.jobBackendId ?? 'a1b2c3d4-0000-4000-8000-000000000002';
  const now = options.now ?? Date.now;
  const runtimeToken = mintRuntimeToken(`Actions.ExampleScope Actions.Results:${runBackendId}:${jobBackendId}`);
  const blobs = new BlobStore();
  const artifacts: StoredArtifact[] = [];
  const caches: CacheEntry[] = [];
  const calls: EmulatorCall[] = [];
  const failures = new Map<string, { status: number; remaining: number }>();
  let nextId = 1000;
  let origin = '';

  const signedUrl = (blobPath: string) => `${origin}/devstoreaccount1/${blobPath}?sig=${blobs.signatureOf(blobPath)}`;
  const idsOf = (body: Record<string, unknown>, scope: { run: string; job: string }) => {
    if (body.workflow_run_backend_id !== scope.run || body.workflow_job_run_backend_id !== scope.job) {
      throw new TwirpError(403, 'permission_denied', 'the backend ids of the request are not those of the token');
    }
  };
  const findArtifact = (run: string, name: unknown) => artifacts.find((a) => a.runBackendId === run && a.name === name);

  const artifactMethods: Record<string, (body: Record<string, unknown>, scope: { run: string; job: string }) => unknown> = {
    CreateArtifact(body, scope) {
      idsOf(body, scope);
      if (typeof body.name !== 'string' || body.name === '') throw new TwirpError(400, 'invalid_argument', 'name is required');
      if (findArtifact(scope.run, body.name)) throw new TwirpError(409, 'already_exists', `an artifact named '${body.name}' already exists in this run`);
      const id = nextId++;
      const blobPath = `artifacts/${scope.run}/${id}/${encodeURIComponent(body.name)}.zip`;
      blobs.create(blobPath, 'application/zip');
      artifacts.push({ id, name: body.name, runBackendId: scope.run, jobBackendId: scope.job, createdAt: new Date(now()).toISOString(), finalized: false, blobPath });
      return { ok: true, signed_upload_url: signedUrl(blobPath) };
    },
    FinalizeArtifact(body, scope) {
      idsOf(body, scope);
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
      idsOf(body, scope);
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
      idsOf(body, scope);
      const artifact = findArtifact(scope.run, body.name);
      if (!artifact?.finalized) throw new TwirpError(404, 'not_found', `no artifact named '${String(body.name)}'`);
      return { signed_url: signedUrl(artifact.blobPath) };
    },
    DeleteArtifact(body, scope) {
      idsOf(body, scope);
      const artifact = findArtifact(scope.run, body.name);
      if (!artifact) throw new TwirpError(404, 'not_found', `no artifact named '${String(body.name)}'`);
      artifacts.splice(artifacts.indexOf(artifact), 1);
      blobs.delete(artifact.blobPath);
      return { ok: true, artifact_id: String(artifact.id) };
    },
  };

  const cacheMethods: Record<string, (body: Record<string, unknown>) => unknown> = {
    CreateCacheEntry(body) {
      if (caches.some((c) => c.key === body.key && c.version === body.version)) throw new TwirpError(409, 'already_exists', `cache entry '${String(body.key)}' already exists`);
      const id = nextId++;
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

  async function handleTwirp(request: IncomingMessage, response: ServerResponse, service: string, method: string): Promise<number> {
    const scope = resultsScope(request.headers.authorization);
    if (!scope || scope.run !== runBackendId || scope.job !== jobBackendId) {
      sendJson(response, 401, { code: 'unauthenticated', msg: 'the bearer token has no Actions.Results scope for this run' });
      return 401;
    }
    const handler = service === ARTIFACT_SERVICE ? artifactMethods[method] : service === CACHE_SERVICE ? cacheMethods[method] : undefined;
    if (request.method !== 'POST' || !handler) {
      sendJson(response, 404, { code: 'bad_route', msg: `no method ${service}/${method}` });
      return 404;
    }
    try {
      const body = JSON.parse((await readBody(request)).toString('utf8')) as Record<string, unknown>;
      sendJson(response, 200, handler(body, scope));
      return 200;
    } catch (error) {
      const failure = error instanceof TwirpError ? error : new TwirpError(400, 'malformed', String(error));
      sendJson(response, failure.status, { code: failure.code, msg: failure.message });
      return failure.status;
    }
  }

  /** Answers a failure planned with failNext, if any: returns its status. */
  function plannedFailure(method: string, response: ServerResponse): number | undefined {
    const planned = failures.get(method);
    if (!planned || planned.remaining <= 0) return undefined;
    planned.remaining -= 1;
    sendJson(response, planned.status, { code: 'internal', msg: `planned failure of ${method}` });
    return planned.status;
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', origin);
    const twirp = url.pathname.match(/^\/twirp\/([^/]+)\/([^/]+)$/);
    const method = twirp ? twirp[2]! : 'blob';
    const answer = async () => plannedFailure(method, response)
      ?? (twirp ? handleTwirp(request, response, twirp[1]!, method) : blobs.handle(request, response, url, await readBody(request)));
    answer().then((status) => calls.push({ method, status }), (error: unknown) => {
      calls.push({ method, status: 500 });
      if (!response.headersSent) sendJson(response, 500, { code: 'internal', msg: String(error) });
    });
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return {
    url: `${origin}/`,
    runtimeToken,
    env: { ACTIONS_RESULTS_URL: `${origin}/`, ACTIONS_RUNTIME_TOKEN: runtimeToken, ACTIONS_CACHE_SERVICE_V2: 'True' },
    calls,
    artifacts: () => artifacts.map((a) => ({ ...a })),
    artifactBytes: (name) => {
      const artifact = artifacts.find((a) => a.name === name && a.finalized);
      return artifact && blobs.committed(artifact.blobPath);
    },
    failNext: (method, status, times = 1) => void failures.set(method, { status, remaining: times }),
    close,
    [Symbol.asyncDispose]: close,
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
