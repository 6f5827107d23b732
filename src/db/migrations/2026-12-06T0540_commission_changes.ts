import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Commission overrides managed by admins (issue #23):
// every change is a row with the moment it takes effect, so the rate in force at any moment is
// the latest change effective by then, future changes can be scheduled (and cancelled before
// they start), and the whole history stays readable. The single-row override table becomes the
// first change of each restaurant.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE restaurant_commission_changes (
      change_id uuid PRIMARY KEY,
      restaurant_id uuid NOT NULL,
      rate text,
      effective_from timestamptz NOT NULL,
      reason text NOT NULL,
      set_by text NOT NULL,
      set_at timestamptz NOT NULL DEFAULT now(),
      cancelled_at timestamptz,
      cancelled_by text
    )`.execute(db);
  await sql`
    CREATE INDEX restaurant_commission_changes_in_force_idx
      ON restaurant_commission_changes (restaurant_id, effective_from DESC, set_at DESC)
      WHERE cancelled_at IS NULL`.execute(db);
  await sql`
    INSERT INTO restaurant_commission_changes (change_id, restaurant_id, rate, effective_from, reason, set_by, set_at)
    SELECT gen_random_uuid(), restaurant_id, rate, set_at, reason, set_by, set_at
      FROM restaurant_commission_overrides`.execute(db);
  await sql`DROP TABLE restaurant_commission_overrides`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE restaurant_commission_overrides (
      restaurant_id uuid PRIMARY KEY,
      rate text NOT NULL,
      reason text NOT NULL,
      set_by text NOT NULL,
      set_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    INSERT INTO restaurant_commission_overrides (restaurant_id, rate, reason, set_by, set_at)
    SELECT DISTINCT ON (restaurant_id) restaurant_id, rate, reason, set_by, set_at
      FROM restaurant_commission_changes
     WHERE cancelled_at IS NULL AND effective_from <= now()
     ORDER BY restaurant_id, effective_from DESC, set_at DESC`.execute(db);
  await sql`DELETE FROM restaurant_commission_overrides WHERE rate IS NULL`.execute(db);
  await sql`DROP TABLE restaurant_commission_changes`.execute(db);
}
