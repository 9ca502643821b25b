/** Fixtures for the binding tests: temp folders, npm-style tarballs, a loopback registry, an in-memory cache. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { create } from 'tar';
import { onTestFinished } from 'vitest';
import type { BindingCache } from '../../src/adapters/duckdb-binding.ts';
import { sha512Integrity } from '../../src/adapters/duckdb-binding-download.ts';
import type { BindingPinsFile } from '../../src/adapters/duckdb-binding-pins.ts';

export const REPO = join(import.meta.dirname, '..', '..');
export const INSTALLED_BINDING = join(REPO, 'node_modules', '@duckdb', 'node-bindings-linux-x64');

/** A temp folder removed when the test ends (or by the caller, for beforeAll fixtures). */
export function makeTempDir(prefix = 'weir-binding-', removeAfterTest = true): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (removeAfterTest) onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Packs the files of `sourceDir` as npm does (under `package/`), gzip level 1 to keep tests quick. */
export async function packFolder(sourceDir: string, tarball: string): Promise<{ bytes: Buffer; integrity: string }> {
  await create({ gzip: { level: 1 }, file: tarball, cwd: sourceDir, prefix: 'package', portable: true }, readdirSync(sourceDir));
  const bytes = readFileSync(tarball);
  return { bytes, integrity: sha512Integrity(bytes) };
}

/** A small fake binding package (no real duckdb.node): for every path that does not load DuckDB. */
export async function packFakeBinding(dir: string, marker = 'fake'): Promise<{ bytes: Buffer; integrity: string }> {
  const source = join(dir, 'fake-src');
  mkdirSync(source, { recursive: true });
  writeFileSync(join(source, 'duckdb.node'), `not a real binding: ${marker}`);
  writeFileSync(join(source, 'package.json'), '{"name":"@duckdb/node-bindings-linux-x64","version":"0.0.0-test"}');
  const packed = await packFolder(source, join(dir, `${marker}.tgz`));
  rmSync(source, { recursive: true, force: true });
  return packed;
}

/** Pins with one linux-x64 entry for `integrity` (the committed pins name the registry's real bytes). */
export function testPins(integrity: string): BindingPinsFile {
  const pin = (platformId: string) => ({
    platformId,
    packageName: `@duckdb/node-bindings-${platformId}`,
    version: '1.5.5-r.5',
    tarballPath: `@duckdb/node-bindings-${platformId}/-/node-bindings-${platformId}-1.5.5-r.5.tgz`,
    integrity,
  });
  return { version: '1.5.5-r.5', pins: [pin('linux-x64'), pin('linux-arm64')] };
}

/** How the loopback registry answers one request. */
export type Answer = { send: Buffer } | { status: number } | 'hang' | 'hang-mid-body' | 'reset';

export interface LoopbackRegistry {
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1 answering request n with answers[n] (the last one repeats); closed after the test. */
export async function serveRegistry(answers: Answer[], closeAfterTest = true): Promise<LoopbackRegistry> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    requests.push(request.url ?? '');
    answer(answers[Math.min(requests.length, answers.length) - 1], request, response);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  if (closeAfterTest) onTestFinished(close);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/registry/`, requests, close };
}

function answer(how: Answer, request: IncomingMessage, response: ServerResponse): void {
  if (how === 'hang') return; // headers never come
  if (how === 'reset') {
    request.socket.destroy();
    return;
  }
  if (how === 'hang-mid-body') {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': '1000000' });
    response.write(Buffer.alloc(1000)); // then nothing more
    return;
  }
  if ('status' in how) {
    response.writeHead(how.status).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(how.send.length) });
  response.end(how.send);
}

/** In-memory BindingCache: keeps each saved folder's files as bytes; counts calls. */
export class MemoryBindingCache implements BindingCache {
  readonly entries = new Map<string, Map<string, Buffer>>();
  readonly calls: string[] = [];

  async restore(key: string, dir: string): Promise<boolean> {
    this.calls.push(`restore ${key}`);
    const files = this.entries.get(key);
    if (!files) return false;
    for (const [path, bytes] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), bytes);
    }
    return true;
  }

  async save(key: string, dir: string): Promise<void> {
    this.calls.push(`save ${key}`);
    const files = new Map<string, Buffer>();
    for (const path of readdirSync(dir, { recursive: true }) as string[]) {
      const full = join(dir, path);
      if (statSync(full).isFile()) files.set(relative(dir, full), readFileSync(full));
    }
    this.entries.set(key, files);
  }
}

/** Every file under `dir` (relative paths), or [] when it does not exist. */
export function listFiles(dir: string): string[] {
  try {
    return (readdirSync(dir, { recursive: true }) as string[]).filter((path) => statSync(join(dir, path)).isFile()).sort();
  } catch {
    return [];
  }
}
