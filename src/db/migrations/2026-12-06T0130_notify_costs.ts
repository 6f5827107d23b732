import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. What a sent message cost, in XAF, when the provider
// said so in its answer (Africa's Talking answers each recipient's `cost`); null when it did not
// (the admin statistics then count the configured unit cost). Issue #19.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE notification_deliveries
    ADD COLUMN cost_xaf integer CHECK (cost_xaf >= 0)`.execute(db);
  // The admin statistics read sends by the time they were made.
  await sql`CREATE INDEX notification_deliveries_updated_idx
    ON notification_deliveries (updated_at)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS notification_deliveries_updated_idx`.execute(db);
  await sql`ALTER TABLE notification_deliveries DROP COLUMN IF EXISTS cost_xaf`.execute(db);
}
