/**
 * E-mail over SMTP with `nodemailer`: a text part and an HTML part built from it (escaped, one
 * paragraph per blank-line block). The server's verdict becomes a `ChannelResult`
 * (docs/notification-channels.md): a 5xx reply (550 mailbox unknown, 554 refused) is permanent;
 * a 4xx reply (greylisting, a full mailbox), a refused connection or a timeout throws, and the
 * queue retries.
 */
import nodemailer from 'nodemailer';
import type { ChannelAdapter, ChannelResult, OutboundMessage } from './outbox.js';

export interface SmtpSettings {
  host: string;
  port: number;
  user?: string;
  pass?: string;
  /** The sender, e.g. `Orders <no-reply@example.cm>`. */
  from: string;
  /** Implicit TLS (port 465); otherwise STARTTLS when the server offers it. */
  secure?: boolean;
  /** Refuse to send without STARTTLS (on by default outside loopback). */
  requireTls?: boolean;
  timeoutMs?: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export type SmtpAdapter = ChannelAdapter & { close(): void };

export function createSmtpAdapter(settings: SmtpSettings): SmtpAdapter {
  const timeout = settings.timeoutMs ?? 15_000;
  const transporter = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure ?? settings.port === 465,
    requireTLS: settings.requireTls ?? !LOOPBACK.has(settings.host),
    ...(settings.user !== undefined ? { auth: { user: settings.user, pass: settings.pass ?? '' } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  return {
    name: 'smtp',
    async send(message) {
      try {
        const info = await transporter.sendMail({
          from: settings.from,
          to: message.to,
          subject: message.subject ?? '',
          text: message.body,
          html: htmlOf(message.subject, message.body),
          ...threadHeaders(settings.from, message.thread),
        });
        return { status: 'sent', providerId: info.messageId };
      } catch (error) {
        return refusal(error);
      }
    },
    close: () => transporter.close(),
  };
}

/** `Message-ID`, `In-Reply-To` and `References` from a message's thread ids, on the sender's domain. */
export function threadHeaders(
  from: string,
  thread: OutboundMessage['thread'],
): { messageId?: string; inReplyTo?: string; references?: string } {
  if (thread === undefined) return {};
  const domain = /@([^@\s<>]+)>?\s*$/.exec(from)?.[1] ?? 'localhost';
  const id = (local: string) => `<${local}@${domain}>`;
  return {
    messageId: id(thread.messageId),
    ...(thread.inReplyTo === undefined
      ? {}
      : { inReplyTo: id(thread.inReplyTo), references: id(thread.inReplyTo) }),
  };
}

/** The HTML part: the text escaped, blank lines between paragraphs, line breaks kept. */
export function htmlOf(subject: string | undefined, body: string): string {
  const escape = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
  const paragraphs = body
    .split(/\n\s*\n/)
    .map((block) => `<p>${escape(block.trim()).replace(/\n/g, '<br>')}</p>`)
    .join('\n');
  const title = subject === undefined ? '' : `<title>${escape(subject)}</title>`;
  return `<!doctype html>\n<html><head><meta charset="utf-8">${title}</head><body>\n${paragraphs}\n</body></html>`;
}

function refusal(error: unknown): ChannelResult {
  const { responseCode } = error as { responseCode?: unknown };
  if (typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600)
    return { status: 'failed', reason: `smtp ${responseCode}`, permanent: true };
  // 4xx replies, refused connections, timeouts, TLS faults: another try may pass.
  throw error;
}
