import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Issue #21, docs/loyalty.md ("Tier benefits"): the
// stranded sweep looks for free deliveries still held past a timeout (oldest first); the finance
// route lists lapsed points holds newest first.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE INDEX loyalty_free_deliveries_held_created ON loyalty_free_deliveries (created_at) WHERE status = 'held'`.execute(
    db,
  );
  await sql`CREATE INDEX loyalty_lapsed_holds_recorded ON loyalty_lapsed_holds (recorded_at, order_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX IF EXISTS loyalty_lapsed_holds_recorded`.execute(db);
  await sql`DROP INDEX IF EXISTS loyalty_free_deliveries_held_created`.execute(db);
}
