import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Delivery receipts (issue #19): what the provider last
// said of a sent message (Twilio's status callbacks), beside the send's own claim status, which
// stays the idempotency key of the send. Looked up by the provider's message id.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE notification_deliveries
      ADD COLUMN provider_status text CHECK (provider_status IN ('queued', 'sent', 'delivered', 'failed')),
      ADD COLUMN provider_reason text,
      ADD COLUMN provider_updated_at timestamptz`.execute(db);
  await sql`CREATE INDEX notification_deliveries_provider_idx
    ON notification_deliveries (provider_id) WHERE provider_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS notification_deliveries_provider_idx`.execute(db);
  await sql`
    ALTER TABLE notification_deliveries
      DROP COLUMN IF EXISTS provider_status,
      DROP COLUMN IF EXISTS provider_reason,
      DROP COLUMN IF EXISTS provider_updated_at`.execute(db);
}
