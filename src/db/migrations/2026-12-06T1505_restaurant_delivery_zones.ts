import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A restaurant's delivery area as zones of its city
// (issue #26): null = its radius alone (as before); otherwise it delivers only to points in one of
// these zones (ids of `city_zones` in the restaurant's city), still within its radius and the
// city's cap. Checked by the application against the city's zones when written.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE restaurants ADD COLUMN delivery_zones text[],
      ADD CONSTRAINT restaurants_delivery_zones_bounded
        CHECK (delivery_zones IS NULL OR cardinality(delivery_zones) BETWEEN 1 AND 20)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE restaurants DROP COLUMN delivery_zones`.execute(db);
}
