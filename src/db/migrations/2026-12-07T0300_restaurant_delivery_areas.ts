import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A restaurant's own delivery area as H3 cells (issue
// #26): one row per restaurant that has drawn one (none: its radius and named zones alone). The
// cells are a compacted set (a parent stands for its children) cut at `h3_resolution`; `polygon`
// is the outline it was drawn as, kept for the apps' map. Checked by the application (valid
// cells inside the restaurant's city, at most 50,000 once counted at the resolution) when
// written; the bounds here are the last line.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE restaurant_delivery_areas (
      restaurant_id uuid PRIMARY KEY REFERENCES restaurants (id) ON DELETE CASCADE,
      polygon jsonb,
      cells text[] NOT NULL CHECK (cardinality(cells) BETWEEN 1 AND 5000),
      h3_resolution int2 NOT NULL CHECK (h3_resolution BETWEEN 5 AND 15),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE restaurant_delivery_areas`.execute(db);
}
