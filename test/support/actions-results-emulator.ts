/**
 * A local emulator of the GitHub Actions results service, enough for the real `@actions/artifact`
 * and `@actions/cache` (v2) clients: Twirp JSON for ArtifactService and CacheService, and the Azure
 * blob endpoints their signed URLs point at (staged blocks + block list, single PUT, GET/HEAD).
 * Protocol: /work/shared/reference/github-actions.md and actions/toolkit's clients.
 *
 * Bytes are kept in memory. It listens on 127.0.0.1 with an ephemeral port; the test closes it
 * (`await using emulator = await startActionsResultsEmulator()`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlobStore } from './blob-store.ts';
import { createArtifactService, createCacheService, TwirpError, type ServiceContext, type StoredArtifact } from './results-services.ts';

export type { StoredArtifact } from './results-services.ts';

export const ARTIFACT_SERVICE = 'github.actions.results.api.v1.ArtifactService';
export const CACHE_SERVICE = 'github.actions.results.api.v1.CacheService';

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
  /** Accept tokens of any job of the run (the jobs of one workflow run share its artifacts). Default: only `jobBackendId`. */
  anyJobOfRun?: boolean;
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

/** Mints the unsigned-checked JWT the clients decode: `scp` holds `Actions.Results:<run>:<job>`. */
export function mintRuntimeToken(scp: string, extraClaims: Record<string, unknown> = {}): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  // `ac`: the cache scopes the runner grants (read/write on the ref), read by some cache clients.
  const ac = JSON.stringify([{ Scope: 'refs/heads/main', Permission: 3 }]);
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ scp, ac, iat: now, exp: now + 3600, ...extraClaims })}.${randomBytes(16).toString('base64url')}`;
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
  const calls: EmulatorCall[] = [];
  const failures = new Map<string, { status: number; remaining: number }>();
  let nextId = 1000;
  let origin = '';

  const signedUrl = (blobPath: string) => `${origin}/devstoreaccount1/${blobPath}?sig=${blobs.signatureOf(blobPath)}`;
  const context: ServiceContext = { blobs, now, nextId: () => nextId++, signedUrl };
  const artifactMethods = createArtifactService(context, artifacts);
  const cacheMethods = createCacheService(context);

  async function handleTwirp(request: IncomingMessage, response: ServerResponse, service: string, method: string): Promise<number> {
    const scope = resultsScope(request.headers.authorization);
    if (!scope || scope.run !== runBackendId || (scope.job !== jobBackendId && !options.anyJobOfRun)) {
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
