import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Notification intents and the in-app centre, their
// deliveries (one row per intent and channel: the idempotency key of a send), devices, the
// dead letters and the intent reactor's checkpoint (issue #19).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE notify_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE notification_intents (
      id uuid PRIMARY KEY,
      recipient_id uuid NOT NULL,
      kind text NOT NULL,
      category text NOT NULL CHECK (category IN ('orders', 'promotions', 'account')),
      priority text NOT NULL CHECK (priority IN ('critical', 'high', 'normal', 'low')),
      params text NOT NULL,
      order_id uuid,
      source_event_id text NOT NULL,
      requires_ack boolean NOT NULL DEFAULT false,
      receipt boolean NOT NULL DEFAULT false,
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'dispatched', 'delivered', 'failed', 'capped', 'muted')),
      created_at timestamptz NOT NULL DEFAULT now(),
      read_at timestamptz,
      acknowledged_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX notification_intents_recipient_idx
    ON notification_intents (recipient_id, created_at DESC, id DESC)`.execute(db);
  await sql`CREATE INDEX notification_intents_unread_idx
    ON notification_intents (recipient_id) WHERE read_at IS NULL`.execute(db);
  await sql`
    CREATE TABLE notification_deliveries (
      id text PRIMARY KEY,
      intent_id uuid NOT NULL REFERENCES notification_intents (id) ON DELETE CASCADE,
      recipient_id uuid NOT NULL,
      channel text NOT NULL CHECK (channel IN ('push', 'sms', 'email')),
      priority text NOT NULL CHECK (priority IN ('critical', 'high', 'normal', 'low')),
      status text NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'capped')),
      transport text,
      provider_id text,
      reason text,
      claimed_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX notification_deliveries_recipient_idx
    ON notification_deliveries (recipient_id, claimed_at)`.execute(db);
  await sql`
    CREATE TABLE notification_devices (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL,
      token text NOT NULL UNIQUE,
      platform text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX notification_devices_user_idx ON notification_devices (user_id)`.execute(db);
  await sql`
    CREATE TABLE notification_dead_letters (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      intent_id uuid NOT NULL,
      channel text NOT NULL,
      queue text NOT NULL,
      reason text NOT NULL,
      attempts integer NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (intent_id, channel)
    )`.execute(db);
  await sql`CREATE INDEX notification_dead_letters_created_idx
    ON notification_dead_letters (created_at DESC, id DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'notification_dead_letters',
    'notification_devices',
    'notification_deliveries',
    'notification_intents',
    'notify_reactor_checkpoints',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
