import type { NotificationsDb } from './tables.js';

/**
 * The notification port. Every context sends through `Notifications.send` (or the SMS
 * shortcut); the transport per channel is chosen once at boot: the recording outbox in
 * development and tests (OUTBOX_ENABLED), the real SDKs in production.
 */
export const CHANNELS = ['sms', 'push', 'email'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Payloads are small: SMS segments, push titles, short e-mails. */
export const MAX_BODY_CHARS = 4_000;
/** An e-mail carries a support reply whole (a message is at most 5 000 characters) and a footer. */
export const MAX_EMAIL_BODY_CHARS = 6_000;
export const MAX_SUBJECT_CHARS = 200;
export const OUTBOX_PAGE_MAX = 50;

export interface OutboundMessage {
  channel: Channel;
  /** E.164 phone (sms), device token or user id (push), e-mail address (email). */
  to: string;
  subject?: string;
  body: string;
  /** Non-personal details for the receiver (kind, order id, deep link). */
  metadata?: Record<string, unknown>;
  /**
   * E-mail threading (e-mail only; other channels ignore it): ids without angle brackets or
   * domain, which the e-mail adapter completes with its sender's domain (`<id@domain>`), so a
   * reply's `In-Reply-To` names the message it answers and the mail client threads them.
   */
  thread?: { messageId: string; inReplyTo?: string };
}

export interface SendResult {
  id: string;
  channel: Channel;
  transport: string;
}

/** One channel's delivery mechanism (Twilio, FCM, SMTP, or the recording outbox). */
export interface Transport {
  name: string;
  send(message: OutboundMessage): Promise<{ id: string }>;
}

/**
 * What a channel adapter answers for one message (push: firebase-admin, SMS: Twilio or a local
 * aggregator, e-mail: nodemailer; the recording outbox in development and tests). A failure is
 * an answer, not an exception: `permanent` says a retry cannot help (a bad number, a refused
 * address), `unregisteredToken` that the push token is dead and its device must be forgotten.
 * A thrown error is a transient fault (network, 5xx, 429): the queue retries it.
 */
export interface ChannelResult {
  status: 'sent' | 'failed';
  providerId?: string;
  /** What the provider said the message cost, in whole XAF, when its answer says (Africa's Talking). */
  costXaf?: number;
  reason?: string;
  permanent?: boolean;
  unregisteredToken?: boolean;
}

/** One channel's adapter, as later adapters implement it. */
export interface ChannelAdapter {
  name: string;
  send(message: OutboundMessage): Promise<ChannelResult>;
}

/** The narrow port the identity context depends on. */
export interface SmsSender {
  send(message: { to: string; body: string; metadata?: Record<string, unknown> }): Promise<SendResult>;
}

export interface RecordedMessage {
  id: string;
  channel: Channel;
  to: string;
  subject: string | null;
  body: string;
  metadata: Record<string, unknown>;
  createdAt: string;
}

export interface OutboxReader {
  list(query: { to?: string; channel?: Channel; limit?: number }): Promise<RecordedMessage[]>;
  /** Removes every message to a recipient (GDPR erasure). */
  forget(to: string): Promise<number>;
}

export function assertMessage(message: OutboundMessage): void {
  if (!CHANNELS.includes(message.channel)) throw new Error(`unknown channel ${String(message.channel)}`);
  if (message.to.length === 0 || message.to.length > 320) throw new Error('recipient is empty or too long');
  const maxBody = message.channel === 'email' ? MAX_EMAIL_BODY_CHARS : MAX_BODY_CHARS;
  if (message.body.length > maxBody) throw new Error(`body is longer than ${maxBody} characters`);
  if ((message.subject?.length ?? 0) > MAX_SUBJECT_CHARS) throw new Error('subject is too long');
}

/** The recording transport: stores the message in PostgreSQL so tests and developers can read it. */
export function createRecordingTransport(db: NotificationsDb): Transport & OutboxReader {
  return {
    name: 'outbox',
    async send(message) {
      const row = await db
        .insertInto('notification_outbox')
        .values({
          channel: message.channel,
          recipient: message.to,
          subject: message.subject ?? null,
          body: message.body,
          metadata: JSON.stringify({
            ...message.metadata,
            ...(message.thread === undefined ? {} : { thread: message.thread }),
          }),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      return { id: row.id };
    },
    async list(query) {
      const limit = Math.min(Math.max(query.limit ?? 20, 1), OUTBOX_PAGE_MAX);
      const rows = await db
        .selectFrom('notification_outbox')
        .selectAll()
        .$if(query.to !== undefined, (builder) => builder.where('recipient', '=', query.to!))
        .$if(query.channel !== undefined, (builder) => builder.where('channel', '=', query.channel!))
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(limit)
        .execute();
      return rows.map((row) => ({
        id: row.id,
        channel: row.channel as Channel,
        to: row.recipient,
        subject: row.subject,
        body: row.body,
        metadata: (row.metadata ?? {}) as Record<string, unknown>,
        createdAt: row.created_at.toISOString(),
      }));
    },
    async forget(to) {
      const result = await db
        .deleteFrom('notification_outbox')
        .where('recipient', '=', to)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
