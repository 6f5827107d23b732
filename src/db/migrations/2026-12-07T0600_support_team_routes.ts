import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): round robin that knows teams. An
// admin maps a ticket category, optionally in one city, to a team (`payment` → `douala-finance`);
// a new ticket goes to an available agent of that team first. One row per category and city
// (NULL city: every city without a row of its own).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_team_routes (
      category text NOT NULL
        CHECK (category IN ('order_problem', 'payment', 'account', 'delivery', 'other')),
      city_id text CHECK (city_id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
      team text NOT NULL CHECK (team ~ '^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$'),
      updated_by uuid,
      updated_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT support_team_routes_key UNIQUE NULLS NOT DISTINCT (category, city_id)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS support_team_routes`.execute(db);
}
