/** A real HTTP server on 127.0.0.1 serving the small APIs the http stage tests talk to. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  url: string;
  /** Every request seen: path with query, method, headers and body. */
  requests: { path: string; method: string; headers: IncomingMessage['headers']; body: string }[];
  /** Forgets the requests and the hit counts, for the next test. */
  reset(): void;
  close(): Promise<void>;
}

/** `hit`: how many times this exact path and query has been requested, this one included. */
type Handler = (url: URL, req: IncomingMessage, res: ServerResponse, body: string, hit: number) => void;

const json = (res: ServerResponse, value: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(value));
};

const people = [
  { id: 1, name: 'ada' },
  { id: 2, name: 'grace' },
  { id: 3, name: 'edsger', team: 'algol' },
];

const routes: Record<string, Handler> = {
  '/people': (_, __, res) => json(res, people),
  '/wrapped': (_, __, res) => json(res, { errors: 'none', data: { items: people }, list: people.slice(0, 1) }),
  '/paged': (url, _, res) => {
    const page = Number(url.searchParams.get('page'));
    const size = Number(url.searchParams.get('per_page') ?? 2);
    json(res, { items: people.slice((page - 1) * size, page * size) });
  },
  '/next': (url, _, res) => {
    const at = Number(url.searchParams.get('at') ?? 0);
    json(res, { data: people.slice(at, at + 1), links: { next: at + 1 < people.length ? `/next?at=${at + 1}` : null } });
  },
  '/link': (url, _, res) => {
    const at = Number(url.searchParams.get('at') ?? 0);
    const next = at + 2 < people.length ? `<${url.origin}/link?at=${at + 2}>; rel="next", ` : '';
    json(res, people.slice(at, at + 2), { link: `${next}<${url.origin}/link?at=0>; rel="first"` });
  },
  '/cursor': (url, _, res) => {
    const at = Number(url.searchParams.get('cursor') ?? 0);
    json(res, { results: people.slice(at, at + 2), meta: { next_cursor: at + 2 < people.length ? String(at + 2) : null } });
  },
  '/loop': (_, __, res) => json(res, { data: [{ id: 1 }], next: '/loop' }),
  '/csv': (url, _, res) => {
    res.writeHead(200, { 'content-type': 'text/csv' });
    const page = Number(url.searchParams.get('page') ?? 1);
    res.end(page === 1 ? 'code,rate\nEUR,1.0\nUSD,1.1\n' : page === 2 ? 'code,rate\nGBP,0.8\n' : 'code,rate\n');
  },
  '/empty': (_, __, res) => json(res, { items: [] }),
  // Every page fails twice with a 500 before it answers: only per-request retries get through.
  '/flaky': (url, _, res, __, hit) => {
    if (hit <= 2) {
      res.writeHead(500, { 'content-type': 'text/plain' });
      return res.end(`attempt ${hit} failed`);
    }
    const page = Number(url.searchParams.get('page'));
    json(res, { items: people.slice(page - 1, page) });
  },
  '/mixed': (_, __, res) => json(res, { items: [{ id: 1 }, 'oops', 42, null, [1, 2], { id: 2 }] }),
  '/scalars': (_, __, res) => json(res, [1, 2]),
  '/secret': (_, req, res) => {
    if (req.headers.authorization === 'Bearer s3cret') return json(res, [{ ok: true }]);
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"error":"bad token"}');
  },
  '/search': (_, req, res, body) => json(res, [{ method: req.method, received: JSON.parse(body) }]),
  '/fail': (_, __, res) => {
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<h1>Internal   Server Error</h1>\n<p>database is down</p>');
  },
  '/hang': () => {},
};

export async function startTestServer(): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const hits = new Map<string, number>();
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const path = `${url.pathname}${url.search}`;
    requests.push({ path, method: req.method ?? 'GET', headers: req.headers, body });
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[url.pathname];
    if (route) return route(url, req, res, body, hits.get(path) ?? 1);
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`no route ${url.pathname}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reset: () => {
      requests.length = 0;
      hits.clear();
    },
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The fault server: a TestServer that also counts its open sockets. */
export interface FaultServer extends TestServer {
  /** Sockets the server has open now: a test can check that a hung request was let go. */
  openSockets(): number;
}

/**
 * A real HTTP server that misbehaves on purpose, one fault per route:
 * - `/hang`: reads the request and never answers;
 * - `/drip?chunks=N&every=MS`: a JSON array sent as N chunks, one every MS ms (slow but live);
 * - `/stall-body`: headers and the first bytes of a JSON array, then nothing;
 * - `/reset-body`: headers and part of the body, then the connection is destroyed;
 * - `/short-body`: a content-length larger than the body it sends, then closes;
 * - `/echo-auth`: 401 whose body echoes the Authorization header back (as careless APIs do);
 * - `/ragged`: a CSV with rows of the wrong width;
 * - `/paged-reset?page=N`: pages of two records; page 2 breaks off the first time, page 3 is empty;
 * - `/big?mb=N&format=json|csv&wrap=KEY`: about N MB of records, streamed (JSON: wrapped in an
 *   object under KEY when given).
 * `hit` counts per path and query, as in startTestServer.
 */
export async function startFaultServer(): Promise<FaultServer> {
  const requests: TestServer['requests'] = [];
  const hits = new Map<string, number>();
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    const path = `${url.pathname}${url.search}`;
    requests.push({ path, method: req.method ?? 'GET', headers: req.headers, body });
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    faultRoute(url, req, res, hit, later);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    openSockets: () => sockets.size,
    reset: () => {
      requests.length = 0;
      hits.clear();
    },
    close: () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function faultRoute(url: URL, req: IncomingMessage, res: ServerResponse, hit: number, later: (ms: number, fn: () => void) => void): void {
  const number = (name: string, fallback: number) => Number(url.searchParams.get(name) ?? fallback);
  switch (url.pathname) {
    case '/hang':
      return;
    case '/drip': {
      const chunks = number('chunks', 5);
      const every = number('every', 100);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[');
      const send = (i: number) => {
        if (i === chunks) return res.end(']');
        res.write(`${i === 0 ? '' : ','}{"id":${i}}`);
        later(every, () => send(i + 1));
      };
      return later(every, () => send(0));
    }
    case '/stall-body':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('[{"id":1},');
      return;
    case '/reset-body':
      // The first request breaks off mid-body; the retry gets the whole answer.
      res.writeHead(200, { 'content-type': 'application/json' });
      if (hit > 1) return void res.end('[{"id":1},{"id":2}]');
      res.write('[{"id":1},');
      return later(20, () => res.destroy());
    case '/short-body':
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('[{"id":1}]');
      return later(20, () => res.destroy());
    case '/echo-auth':
      res.writeHead(401, { 'content-type': 'application/json' });
      return void res.end(JSON.stringify({ error: 'invalid token', received: req.headers.authorization ?? null }));
    case '/ragged':
      res.writeHead(200, { 'content-type': 'text/csv' });
      return void res.end('id,name,score\n1,ada,10\n2,grace\n3,edsger,30\n4,barbara,40,extra\n5,alan,50\n');
    case '/paged-reset': {
      // Page 2 breaks off mid-body the first time; page 3 is empty.
      const page = number('page', 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      if (page >= 3) return void res.end('[]');
      if (page === 2 && hit === 1) {
        res.write('[{"page":2,');
        return later(20, () => res.destroy());
      }
      return void res.end(JSON.stringify([{ page, n: 1 }, { page, n: 2 }]));
    }
    case '/big':
      return void streamBig(res, number('mb', 1), url.searchParams.get('format') ?? 'json', url.searchParams.get('wrap'));
    default:
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no route ${url.pathname}`);
  }
}

/** About `mb` MB of records, written with backpressure so the server does not hold the answer in memory. */
async function streamBig(res: ServerResponse, mb: number, format: string, wrap: string | null): Promise<void> {
  const csv = format === 'csv';
  res.writeHead(200, { 'content-type': csv ? 'text/csv' : 'application/json' });
  const target = mb * 1024 * 1024;
  let written = 0;
  let id = 0;
  if (csv) res.write('id,name,amount,note\n');
  else res.write(wrap ? `{"meta":{"total":"unknown"},"${wrap}":[` : '[');
  while (written < target) {
    const rows: string[] = [];
    for (let i = 0; i < 1000; i++, id++) {
      rows.push(csv ? `${id},name-${id},${id * 0.5},some text for row ${id}\n` : `${id === 0 ? '' : ','}{"id":${id},"name":"name-${id}","amount":${id * 0.5},"note":"some text for row ${id}"}`);
    }
    const chunk = rows.join('');
    written += chunk.length;
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end(csv ? '' : wrap ? ']}' : ']');
}
