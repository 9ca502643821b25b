/**
 * Email through SMTP with nodemailer: an HTML body (the report inline when the run wrote one, under
 * a short summary), a text part, the report's CSV files as attachments, several recipients. Host,
 * port and credentials come from environment variables (Actions secrets in CI).
 */
import { escapeHtml } from '../stages/report-html.ts';
import type { ChannelSender } from './channel.ts';
import { formatSeconds, messageText, type NotificationMessage } from './message.ts';

export interface SmtpSettings {
  host: string;
  port: number;
  tls: 'starttls' | 'implicit' | 'none';
  user?: string;
  password?: string;
}

export interface EmailSettings {
  from: string;
  to: string[];
  subjectPrefix: string;
  smtp: SmtpSettings;
  /** Each SMTP step (connect, greeting, any read) gives up after this long. */
  timeoutMs: number;
}

export function emailSubject(message: NotificationMessage, prefix: string): string {
  return `${prefix ? `${prefix} ` : ''}${message.headline} · ${message.interval.start.slice(0, 10)}`;
}

/** The HTML body: a summary block, then the report's page inline when there is one (pure). */
export function emailHtml(message: NotificationMessage): string {
  const facts = [
    ['Status', message.status],
    ['Pipeline', message.pipeline],
    ['Interval', `${message.interval.start} → ${message.interval.end}`],
    ['Duration', message.durationMs === undefined ? '–' : formatSeconds(message.durationMs)],
    ['Run', message.runId],
  ];
  const failed = message.failedStage
    ? `<p><strong>Failed stage ${escapeHtml(message.failedStage.name)}:</strong> ${escapeHtml(message.failedStage.error.message)}<br><strong>Fix:</strong> ${escapeHtml(message.failedStage.fix)}</p>`
    : '';
  const details = message.details.length ? `<ul>${message.details.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>` : '';
  // A link in an email is fine (the reader chooses to follow it); it is not loaded with the message.
  const link = message.runUrl ? `<p><a href="${escapeHtml(message.runUrl)}">Open the run on GitHub</a></p>` : '';
  const summary = `<div class="weir-summary"><p><strong>${escapeHtml(message.headline)}</strong></p><table>${facts.map(([k, v]) => `<tr><th align="left">${escapeHtml(k!)}</th><td>${escapeHtml(v!)}</td></tr>`).join('')}</table>${failed}${details}${link}</div>`;
  const report = message.report?.html;
  if (report && /<body[^>]*>/i.test(report)) return report.replace(/<body[^>]*>/i, (tag) => `${tag}\n${summary}<hr>`);
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(message.headline)}</title></head><body>${summary}</body></html>`;
}

export function createEmailSender(name: string, settings: EmailSettings): ChannelSender {
  return {
    name,
    type: 'email',
    async send(message, signal) {
      const { smtp } = settings;
      // Loaded on first send: commands that send no email never load nodemailer (see scripts/build.ts).
      const { createTransport } = await import('nodemailer');
      const transport = createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.tls === 'implicit',
        requireTLS: smtp.tls === 'starttls',
        ignoreTLS: smtp.tls === 'none',
        auth: smtp.user ? { user: smtp.user, pass: smtp.password } : undefined,
        connectionTimeout: settings.timeoutMs,
        greetingTimeout: settings.timeoutMs,
        socketTimeout: settings.timeoutMs,
      });
      // nodemailer takes no AbortSignal: closing the transport ends the connection.
      const abort = () => transport.close();
      signal.addEventListener('abort', abort, { once: true });
      try {
        signal.throwIfAborted();
        await transport.sendMail({
          from: settings.from,
          to: settings.to,
          subject: emailSubject(message, settings.subjectPrefix),
          text: messageText(message),
          html: emailHtml(message),
          attachments: (message.report?.attachments ?? []).map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
        });
      } finally {
        signal.removeEventListener('abort', abort);
        transport.close();
      }
    },
  };
}
