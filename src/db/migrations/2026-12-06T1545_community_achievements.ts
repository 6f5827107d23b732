import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Issue #27, docs/community.md ("Profiles, badges and
// challenges"): opt-in public profiles under a pseudonym, badges and monthly counts from completed
// orders (each order counted once), and the achievements reactor's checkpoint. Rewards with value
// are ledger transfers (points), never stored here.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE community_reactor_checkpoints (
      name text PRIMARY KEY,
      position text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE community_profiles (
      user_id uuid PRIMARY KEY,
      pseudonym text NOT NULL UNIQUE,
      public boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE community_counted_orders (
      order_id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      month text NOT NULL,
      city text NOT NULL,
      counted_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX community_counted_orders_user ON community_counted_orders (user_id)`.execute(db);
  await sql`
    CREATE TABLE community_cuisines (
      user_id uuid NOT NULL,
      cuisine text NOT NULL,
      PRIMARY KEY (user_id, cuisine)
    )`.execute(db);
  await sql`
    CREATE TABLE community_monthly (
      user_id uuid NOT NULL,
      month text NOT NULL,
      city text NOT NULL,
      orders integer NOT NULL CHECK (orders >= 0),
      PRIMARY KEY (user_id, month, city)
    )`.execute(db);
  await sql`CREATE INDEX community_monthly_board ON community_monthly (month, city, orders DESC)`.execute(db);
  await sql`
    CREATE TABLE community_badges (
      user_id uuid NOT NULL,
      badge text NOT NULL,
      order_id uuid NOT NULL,
      earned_at timestamptz NOT NULL,
      PRIMARY KEY (user_id, badge)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'community_badges',
    'community_monthly',
    'community_cuisines',
    'community_counted_orders',
    'community_profiles',
    'community_reactor_checkpoints',
  ])
    await db.schema.dropTable(table).ifExists().execute();
}
