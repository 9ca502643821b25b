/**
 * The Azure Blob Storage side of the Actions results emulator: what the Azure SDK sends to a
 * path-style signed URL (`/<account>/<container>/<blob>?sig=…`) on loopback.
 * - `PUT ?comp=block&blockid=<b64>` stages a block;
 * - `PUT ?comp=blocklist` commits the `<Latest>`/`<Uncommitted>`/`<Committed>` ids, in list order;
 * - `PUT` with `x-ms-blob-type: BlockBlob` uploads the whole blob at once;
 * - `GET` / `HEAD` read it back.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

interface Blob {
  contentType: string;
  signature: string;
  blocks: Map<string, Buffer>;
  committed?: Buffer;
}

/** The account segment of every signed URL the emulator hands out. */
const ACCOUNT = 'devstoreaccount1';

export class BlobStore {
  readonly #blobs = new Map<string, Blob>();

  create(path: string, contentType: string): void {
    this.#blobs.set(path, { contentType, signature: randomBytes(12).toString('hex'), blocks: new Map() });
  }

  signatureOf(path: string): string {
    return this.#blobs.get(path)!.signature;
  }

  committed(path: string): Buffer | undefined {
    return this.#blobs.get(path)?.committed;
  }

  delete(path: string): void {
    this.#blobs.delete(path);
  }

  /** Answers one blob request; returns the status sent. */
  handle(request: IncomingMessage, response: ServerResponse, url: URL, body: Buffer): number {
    const prefix = `/${ACCOUNT}/`;
    const path = url.pathname.startsWith(prefix) ? decodeURIComponent(url.pathname.slice(prefix.length)) : '';
    const blob = this.#blobs.get(path) ?? this.#blobs.get(encodedName(path));
    if (!blob) return reply(response, 404, 'BlobNotFound');
    if (url.searchParams.get('sig') !== blob.signature) return reply(response, 403, 'AuthenticationFailed');
    if (request.method === 'GET' || request.method === 'HEAD') return this.#read(request, response, blob);
    if (request.method !== 'PUT') return reply(response, 405, 'UnsupportedHttpVerb');
    const comp = url.searchParams.get('comp');
    if (comp === 'block') {
      const id = url.searchParams.get('blockid');
      if (!id) return reply(response, 400, 'InvalidQueryParameterValue');
      blob.blocks.set(id, body);
      return reply(response, 201);
    }
    if (comp === 'blocklist') {
      const ids = [...body.toString('utf8').matchAll(/<(?:Latest|Uncommitted|Committed)>([^<]*)<\//g)].map((m) => m[1]!);
      const missing = ids.find((id) => !blob.blocks.has(id));
      if (missing !== undefined) return reply(response, 400, 'InvalidBlockList');
      blob.committed = Buffer.concat(ids.map((id) => blob.blocks.get(id)!));
      blob.blocks.clear();
      return reply(response, 201);
    }
    if (comp === null && request.headers['x-ms-blob-type'] === 'BlockBlob') {
      blob.committed = body;
      return reply(response, 201);
    }
    return reply(response, 400, 'InvalidQueryParameterValue');
  }

  #read(request: IncomingMessage, response: ServerResponse, blob: Blob): number {
    if (!blob.committed) return reply(response, 404, 'BlobNotFound');
    const range = parseRange(request.headers['x-ms-range'] ?? request.headers.range, blob.committed.length);
    const bytes = range ? blob.committed.subarray(range.start, range.end + 1) : blob.committed;
    response.writeHead(range ? 206 : 200, {
      ...azureHeaders(),
      'content-type': blob.contentType,
      'content-length': String(bytes.length),
      'x-ms-blob-type': 'BlockBlob',
      ...(range ? { 'content-range': `bytes ${range.start}-${range.end}/${blob.committed.length}` } : {}),
    });
    response.end(request.method === 'HEAD' ? undefined : bytes);
    return range ? 206 : 200;
  }
}

/** Blob names are stored URL-encoded (artifact names may hold spaces); a request may send them either way. */
function encodedName(path: string): string {
  const parts = path.split('/');
  return [...parts.slice(0, -1), encodeURIComponent(parts.at(-1) ?? '')].join('/');
}

function parseRange(header: string | string[] | undefined, size: number): { start: number; end: number } | undefined {
  const match = typeof header === 'string' ? header.match(/^bytes=(\d+)-(\d*)$/) : null;
  if (!match) return undefined;
  return { start: Number(match[1]), end: Math.min(size - 1, match[2] ? Number(match[2]) : size - 1) };
}

function azureHeaders(): Record<string, string> {
  return { 'x-ms-request-id': randomUUID(), 'x-ms-version': '2024-11-04', etag: `"0x${randomBytes(8).toString('hex')}"`, 'last-modified': new Date().toUTCString() };
}

/** 201 for uploads, or an Azure-style XML error with its code. */
function reply(response: ServerResponse, status: number, errorCode?: string): number {
  if (!errorCode) {
    response.writeHead(status, { ...azureHeaders(), 'content-length': '0' }).end();
    return status;
  }
  const xml = `<?xml version="1.0" encoding="utf-8"?><Error><Code>${errorCode}</Code><Message>${errorCode}</Message></Error>`;
  response.writeHead(status, { ...azureHeaders(), 'content-type': 'application/xml', 'x-ms-error-code': errorCode }).end(xml);
  return status;
}
