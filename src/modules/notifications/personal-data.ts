import type { PersonalDataHook } from '../../platform/context.js';
import type { OutboxReader } from './outbox.js';

/**
 * The notifications context's share of one person's data (GDPR export and erasure, issue #15):
 * the messages the recording outbox (development and tests; never in production) holds for the
 * person's phone or e-mail. Transports that only send (Twilio) keep nothing here. Idempotent.
 */
export const EXPORT_ROWS_MAX = 100;

export function notificationsPersonalData(outbox: OutboxReader | undefined): PersonalDataHook {
  const recipients = (contacts: { phone: string | null; email: string | null }) =>
    [contacts.phone, contacts.email].filter((value): value is string => value !== null);
  return {
    async export(_subjectId, contacts) {
      if (outbox === undefined) return { messages: [] };
      const messages = [];
      for (const to of recipients(contacts)) {
        for (const message of await outbox.list({ to, limit: EXPORT_ROWS_MAX }))
          messages.push({
            channel: message.channel,
            to: message.to,
            subject: message.subject,
            at: message.createdAt,
          });
      }
      return { messages };
    },
    async erase(_subjectId, contacts) {
      let forgotten = 0;
      if (outbox !== undefined) for (const to of recipients(contacts)) forgotten += await outbox.forget(to);
      return { messagesDeleted: forgotten };
    },
  };
}
