/**
 * `weir site [--out dir] [--serve] [--port n]`: writes the static status site from the ledger
 * (index.html and runs/<run id>.html) and, with --serve, previews it on 127.0.0.1.
 */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { buildSite, DEFAULT_RUNS_PER_PIPELINE, type SitePage } from '../use-cases/site.ts';
import type { CliValues } from './cli.ts';
import { createCliDeps } from './cli-deps.ts';
import { EXIT, type Io, UsageError } from './cli-io.ts';
import { rootOf } from './cli-pipelines.ts';

/** Where the site goes without --out, relative to the project root. */
export const DEFAULT_SITE_DIR = 'weir-site';
/** The preview port without --port (0 picks a free one). */
export const DEFAULT_SITE_PORT = 4173;

export async function siteCommand(args: string[], values: CliValues, io: Io): Promise<number> {
  if (args.length) throw new UsageError(`'weir site' takes no arguments, got '${args.join(' ')}'; choose the folder with --out <dir>`);
  const root = rootOf(values, io);
  const out = resolve(io.cwd, values.out ?? join(root, DEFAULT_SITE_DIR));
  const port = parsePort(values.port);
  const runsPerPipeline = values.limit === undefined ? DEFAULT_RUNS_PER_PIPELINE : parsePositive(values.limit, '--limit');
  const result = await buildSite({ root, runsPerPipeline }, createCliDeps(root, { ledger: values.ledger }));
  await writeSite(out, result.pages);
  const runs = result.pages.length - 1;
  io.out(`wrote ${out}: ${result.model.pipelines.length} pipeline(s), ${runs} run page(s)`);
  if (!values.serve) return EXIT.ok;
  const server = await serveStaticFolder(out, port);
  io.out(`serving ${server.url} (Ctrl-C to stop)`);
  const signal = await new Promise<NodeJS.Signals>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  await server.close();
  return signal === 'SIGINT' ? EXIT.ok : EXIT.signal(signal);
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SITE_PORT;
  const port = Number(text);
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`--port must be a whole number from 0 to 65535, got '${text}'`);
  return port;
}

function parsePositive(text: string, flag: string): number {
  const value = Number(text);
  if (!(Number.isInteger(value) && value > 0)) throw new UsageError(`${flag} must be a positive whole number, got '${text}'`);
  return value;
}

/** Writes the pages; run pages of an earlier site are removed first, so no page outlives its run. */
export async function writeSite(out: string, pages: readonly SitePage[]): Promise<void> {
  await rm(join(out, 'runs'), { recursive: true, force: true });
  for (const page of pages) {
    const file = join(out, ...page.path.split('/'));
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, page.html);
  }
}

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml', '.css': 'text/css', '.png': 'image/png' };

/**
 * A static file server on 127.0.0.1 for previews. Hand-written over node:http (no dependency): it
 * serves GET/HEAD of files under `dir`, `index.html` for folders, and refuses paths outside `dir`.
 */
export async function serveStaticFolder(dir: string, port: number): Promise<StaticServer> {
  const server: Server = createServer((request, response) => {
    void answer(dir, request.method ?? 'GET', request.url ?? '/', response);
  });
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ready);
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/`,
    close: () => new Promise<void>((done) => {
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

async function answer(dir: string, method: string, url: string, response: import('node:http').ServerResponse): Promise<void> {
  if (method !== 'GET' && method !== 'HEAD') return void response.writeHead(405, { allow: 'GET, HEAD' }).end();
  const file = await tryResolveFile(dir, new URL(url, 'http://localhost').pathname);
  if (!file) return void response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
  response.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
  if (method === 'HEAD') return void response.end();
  createReadStream(file).pipe(response);
}

async function tryResolveFile(dir: string, pathname: string): Promise<string | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  const candidate = resolve(dir, `.${decoded}`);
  const inside = relative(dir, candidate);
  if (inside.startsWith('..') || inside.split(sep).includes('..')) return undefined;
  const info = await stat(candidate).catch(() => undefined);
  if (info?.isDirectory()) return tryResolveFile(dir, `${pathname.replace(/\/?$/, '/')}index.html`);
  return info?.isFile() ? candidate : undefined;
}
