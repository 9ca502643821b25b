/**
 * Real servers on loopback for notification tests: an SMTP server (smtp-server) that parses every
 * mail it receives with mailparser, and an HTTP server for Slack and webhooks whose behaviour is
 * switched per test (answer, 500, reset the connection, hang). Each closes itself with the test.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { onTestFinished } from 'vitest';

export interface ReceivedMail {
  from: string;
  recipients: string[];
  raw: string;
  parsed: ParsedMail;
}

export interface SmtpTestServer {
  port: number;
  mails: ReceivedMail[];
  /** Logins seen (user, password), to check credentials travel from env. */
  logins: { user: string; password: string }[];
}

export async function startSmtpServer(): Promise<SmtpTestServer> {
  const mails: ReceivedMail[] = [];
  const logins: SmtpTestServer['logins'] = [];
  const server = new SMTPServer({
    // Plain SMTP on loopback: STARTTLS off, login allowed without TLS (the test has no certificate).
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authOptional: true,
    logger: false,
    onAuth(auth, _session, callback) {
      logins.push({ user: auth.username ?? '', password: auth.password ?? '' });
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (parsed) => {
            const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
            mails.push({ from, recipients: session.envelope.rcptTo.map((r) => r.address), raw, parsed });
            callback();
          },
          (error: Error) => callback(error),
        );
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port, mails, logins };
}

export type HookMode = 'ok' | 'error500' | 'reset' | 'hang';

export interface ReceivedPost {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HookTestServer {
  url: string;
  posts: ReceivedPost[];
  /** Requests seen, whatever the answer (a reset or hung request is counted too). */
  hits: number;
  mode: HookMode;
}

export async function startHookServer(mode: HookMode = 'ok'): Promise<HookTestServer> {
  const sockets = new Set<Socket>();
  const hung: ServerResponse[] = [];
  const state: HookTestServer = { url: '', posts: [], hits: 0, mode };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      state.hits += 1;
      const body = Buffer.concat(chunks).toString('utf8');
      if (state.mode === 'reset') return req.socket.destroy();
      if (state.mode === 'hang') return void hung.push(res);
      if (state.mode === 'error500') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        return res.end('internal error');
      }
      state.posts.push({ path: req.url ?? '/', headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  return state;
}
