import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Favourites (issue #27): a customer's restaurants and
// dishes, one row each, newest first. The ids point at the catalog's rows but carry no foreign
// key: the catalog is another context, and a favourite of a dish since archived reads as not
// orderable rather than vanishing.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE favourites (
      user_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('restaurant', 'dish')),
      target_id uuid NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, kind, target_id)
    )`.execute(db);
  await sql`CREATE INDEX favourites_user_kind_created_idx ON favourites (user_id, kind, created_at DESC, target_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('favourites').ifExists().execute();
}
