import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A support ticket's city (issue #26): the city of its
// order's restaurant, else of the opener's default address; its SLA clock counts only that city's
// support hours. NULL: no city known (tickets opened before, or an opener without either), and
// the clock runs all day as before.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE support_tickets ADD COLUMN city_id text`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE support_tickets DROP COLUMN city_id`.execute(db);
}
