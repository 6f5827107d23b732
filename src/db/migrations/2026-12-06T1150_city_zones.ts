import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Zones within a city (issue #26): a polygon of
// latitude/longitude vertices (jsonb array of {latitude, longitude}), whether the platform
// delivers there, a fee adjustment and fee surges by local time. Point-in-polygon runs in the
// application over the in-memory directory (docs/catalog.md, "Zones"), so no geometry type is
// needed. Limits are CHECK constraints too: 3-100 vertices, at most 8 surges, bounded amounts.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE city_zones (
      city_id text NOT NULL REFERENCES cities (id) ON UPDATE CASCADE,
      id text NOT NULL,
      name text NOT NULL,
      polygon jsonb NOT NULL,
      active boolean NOT NULL DEFAULT true,
      delivers boolean NOT NULL DEFAULT true,
      fee_adjustment_xaf integer NOT NULL DEFAULT 0,
      surges jsonb NOT NULL DEFAULT '[]'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (city_id, id),
      CONSTRAINT city_zones_id_slug CHECK (id ~ '^[a-z0-9][a-z0-9-]{1,39}$'),
      CONSTRAINT city_zones_name_bounded CHECK (char_length(name) BETWEEN 1 AND 60),
      CONSTRAINT city_zones_polygon_bounded CHECK (
        jsonb_typeof(polygon) = 'array' AND jsonb_array_length(polygon) BETWEEN 3 AND 100),
      CONSTRAINT city_zones_fee_bounded CHECK (fee_adjustment_xaf BETWEEN -5000 AND 10000),
      CONSTRAINT city_zones_surges_bounded CHECK (
        jsonb_typeof(surges) = 'array' AND jsonb_array_length(surges) <= 8)
    )`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS city_zones`.execute(db);
}
