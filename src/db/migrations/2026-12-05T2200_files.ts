import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The files context (issue #18): one row per uploaded
// file, its renditions (keys in the file store) and its retention hooks. Subjects (restaurant,
// menu item, order, owner) are other contexts' ids, kept without foreign keys: a context owns
// its tables alone.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE files (
      id uuid PRIMARY KEY,
      purpose text NOT NULL CHECK (purpose IN (
        'restaurant_logo', 'restaurant_cover', 'menu_item_photo', 'driver_document',
        'delivery_photo', 'delivery_signature', 'order_packed_photo')),
      restaurant_id uuid,
      menu_item_id uuid,
      order_id uuid,
      owner_user_id uuid,
      document_kind text CHECK (document_kind IN ('identity', 'licence', 'vehicle_registration', 'insurance')),
      uploaded_by uuid NOT NULL,
      content_type text NOT NULL,
      byte_size integer NOT NULL CHECK (byte_size > 0),
      sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
      status text NOT NULL CHECK (status IN ('clean', 'pending_scan', 'infected')),
      scanned_by text,
      renditions jsonb NOT NULL DEFAULT '[]',
      created_at timestamptz NOT NULL DEFAULT now(),
      delete_after timestamptz,
      deleted_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX files_restaurant_idx ON files (restaurant_id) WHERE restaurant_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX files_owner_idx ON files (owner_user_id) WHERE owner_user_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX files_order_idx ON files (order_id) WHERE order_id IS NOT NULL`.execute(db);
  // The retention sweep's work list: files due for deletion and not yet deleted.
  await sql`CREATE INDEX files_delete_after_idx ON files (delete_after) WHERE deleted_at IS NULL AND delete_after IS NOT NULL`.execute(
    db,
  );
  // The catalog keeps the current photo of a restaurant and an item on its own rows.
  await sql`ALTER TABLE restaurants ADD COLUMN logo jsonb, ADD COLUMN cover jsonb`.execute(db);
  await sql`ALTER TABLE menu_items ADD COLUMN photo jsonb`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE menu_items DROP COLUMN IF EXISTS photo`.execute(db);
  await sql`ALTER TABLE restaurants DROP COLUMN IF EXISTS logo, DROP COLUMN IF EXISTS cover`.execute(db);
  await sql`DROP TABLE IF EXISTS files`.execute(db);
}
