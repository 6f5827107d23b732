import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Promotional slots (issue #23): paid placements of a
// restaurant on a city's home feed for a period. Two exclusion constraints are the overlap rules,
// race-free whatever the instances: one restaurant per (city, position) at a time, and a
// restaurant at most once on a city's feed at a time. Cancelled placements take no room.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE EXTENSION IF NOT EXISTS btree_gist`.execute(db);
  await sql`
    CREATE TABLE admin_promo_slots (
      id uuid PRIMARY KEY,
      restaurant_id uuid NOT NULL,
      city text NOT NULL,
      position integer NOT NULL CHECK (position BETWEEN 1 AND 20),
      starts_at timestamptz NOT NULL,
      ends_at timestamptz NOT NULL,
      price_minor bigint NOT NULL CHECK (price_minor >= 0),
      headline_fr text NOT NULL,
      headline_en text,
      version integer NOT NULL DEFAULT 1,
      created_by text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      cancelled_at timestamptz,
      cancelled_by text,
      CONSTRAINT admin_promo_slots_period CHECK (ends_at > starts_at),
      CONSTRAINT admin_promo_slots_position_free EXCLUDE USING gist (
        city WITH =, position WITH =, tstzrange(starts_at, ends_at) WITH &&
      ) WHERE (cancelled_at IS NULL),
      CONSTRAINT admin_promo_slots_restaurant_once EXCLUDE USING gist (
        city WITH =, restaurant_id WITH =, tstzrange(starts_at, ends_at) WITH &&
      ) WHERE (cancelled_at IS NULL)
    )`.execute(db);
  await sql`CREATE INDEX admin_promo_slots_feed_idx
    ON admin_promo_slots (city, ends_at) WHERE cancelled_at IS NULL`.execute(db);
  await sql`CREATE INDEX admin_promo_slots_created_idx
    ON admin_promo_slots (created_at DESC, id DESC)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_promo_slots`.execute(db);
}
