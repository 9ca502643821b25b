/**
 * `git http-backend` (git's own smart-HTTP CGI) served on loopback, with a bearer check like
 * GitHub's: every request must carry `Authorization: basic base64(x-access-token:<token>)`, else
 * 401. Closed, with any CGI process it started, when the test ends.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';

const HTTP_BACKEND = join(execFileSync('git', ['--exec-path'], { encoding: 'utf8' }).trim(), 'git-http-backend');

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>/<name of the bare repo folder>` */
  urlOf(repoName: string): string;
  /** Authorization headers received, in order (to show the token was sent). */
  authorizations: (string | undefined)[];
}

function isAuthorized(header: string | undefined, token: string): boolean {
  const match = /^basic\s+(.+)$/i.exec(header ?? '');
  return match !== null && Buffer.from(match[1]!, 'base64').toString('utf8') === `x-access-token:${token}`;
}

/** Relays the CGI's answer: its header block (with `Status:`), then the body as it streams. */
function relayCgi(child: ChildProcess, res: ServerResponse): void {
  let head = Buffer.alloc(0);
  let headDone = false;
  child.stdout!.on('data', (chunk: Buffer) => {
    if (headDone) return void res.write(chunk);
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) return;
    headDone = true;
    for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
      const [name, ...rest] = line.split(':');
      const value = rest.join(':').trim();
      if (name!.toLowerCase() === 'status') res.statusCode = Number.parseInt(value, 10);
      else res.setHeader(name!, value);
    }
    res.write(head.subarray(end + 4));
  });
  child.on('close', () => res.end());
}

export async function serveGitOverHttp(projectRoot: string, token: string): Promise<GitHttpServer> {
  const children = new Set<ChildProcess>();
  const authorizations: (string | undefined)[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    authorizations.push(req.headers.authorization);
    if (!isAuthorized(req.headers.authorization, token)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="weir-test"' }).end('bad credentials');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const child = spawn(HTTP_BACKEND, [], {
      env: {
        PATH: process.env.PATH,
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_PROJECT_ROOT: projectRoot,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: 'x-access-token', // enables receive-pack (push)
        REMOTE_ADDR: '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    children.add(child);
    child.on('close', () => children.delete(child));
    req.pipe(child.stdin!);
    relayCgi(child, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(async () => {
    for (const child of children) child.kill('SIGKILL');
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { urlOf: (repoName) => `http://127.0.0.1:${port}/${repoName}`, authorizations };
}
