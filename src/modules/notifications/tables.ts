import type { Generated, Kysely } from 'kysely';

/** Messages recorded by the development outbox transport instead of being sent. */
export interface NotificationOutboxTable {
  id: Generated<string>;
  channel: string;
  recipient: string;
  subject: string | null;
  body: string;
  metadata: unknown;
  created_at: Generated<Date>;
}

/** The database as this context sees it: its own tables only. */
export type NotificationsDb = Kysely<NotificationTables>;

export interface NotificationTables {
  notification_outbox: NotificationOutboxTable;
}
