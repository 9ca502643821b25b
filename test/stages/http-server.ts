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
