import type { Generated, Kysely } from 'kysely';

/**
 * One thing to tell one person (an entry of their in-app centre): named after the event, the
 * recipient and the kind (`intentId`), so a replayed event inserts nothing new. `params` is the
 * template's placeholders as JSON, encrypted with the field crypto (a tracking link, a driver's
 * first name, an amount next to a name are personal data).
 */
export interface NotificationIntentsTable {
  id: string;
  recipient_id: string;
  kind: string;
  category: 'orders' | 'promotions' | 'account';
  priority: 'critical' | 'high' | 'normal' | 'low';
  params: string;
  order_id: string | null;
  source_event_id: string;
  requires_ack: Generated<boolean>;
  receipt: Generated<boolean>;
  status: Generated<'pending' | 'dispatched' | 'delivered' | 'failed' | 'capped' | 'muted'>;
  created_at: Generated<Date>;
  read_at: Date | null;
  acknowledged_at: Date | null;
}

/** One send of one intent on one channel (`<intentId>:<channel>`): the key that makes it once. */
export interface NotificationDeliveriesTable {
  id: string;
  intent_id: string;
  recipient_id: string;
  channel: 'push' | 'sms' | 'email';
  /** The intent's: critical sends are neither capped nor counted against the cap. */
  priority: 'critical' | 'high' | 'normal' | 'low';
  status: 'sending' | 'sent' | 'failed' | 'capped';
  transport: string | null;
  provider_id: string | null;
  reason: string | null;
  claimed_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** What the provider last reported of the sent message (delivery receipts), and why it failed. */
  provider_status: Generated<ReceiptStatus | null>;
  provider_reason: Generated<string | null>;
  provider_updated_at: Generated<Date | null>;
  /** What the provider said the message cost (XAF), when it did. */
  cost_xaf: Generated<number | null>;
}

export type ReceiptStatus = 'queued' | 'sent' | 'delivered' | 'failed';

export interface NotificationDevicesTable {
  id: Generated<string>;
  user_id: string;
  token: string;
  platform: 'android' | 'ios' | 'web';
  created_at: Generated<Date>;
  last_seen_at: Generated<Date>;
}

/** A send given up after its last retry: ids and the reason only (no recipient, no body). */
export interface NotificationDeadLettersTable {
  id: Generated<string>;
  intent_id: string;
  channel: string;
  queue: string;
  reason: string;
  attempts: number;
  created_at: Generated<Date>;
}

export interface NotifyReactorCheckpointsTable {
  name: string;
  position: string;
  updated_at: Generated<Date>;
}

export interface NotifyTables {
  notification_intents: NotificationIntentsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_devices: NotificationDevicesTable;
  notification_dead_letters: NotificationDeadLettersTable;
  notify_reactor_checkpoints: NotifyReactorCheckpointsTable;
}

export type NotifyDb = Kysely<NotifyTables>;
