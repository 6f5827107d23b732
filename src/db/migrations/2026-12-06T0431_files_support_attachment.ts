import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support tickets take attachments (issue #22): a
// `support_attachment` upload purpose, a private file owned by its uploader.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE files DROP CONSTRAINT files_purpose_check`.execute(db);
  await sql`
    ALTER TABLE files ADD CONSTRAINT files_purpose_check CHECK (purpose IN (
      'restaurant_logo', 'restaurant_cover', 'menu_item_photo', 'driver_document',
      'delivery_photo', 'delivery_signature', 'order_packed_photo', 'support_attachment'))`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE files DROP CONSTRAINT files_purpose_check`.execute(db);
  await sql`
    ALTER TABLE files ADD CONSTRAINT files_purpose_check CHECK (purpose IN (
      'restaurant_logo', 'restaurant_cover', 'menu_item_photo', 'driver_document',
      'delivery_photo', 'delivery_signature', 'order_packed_photo'))`.execute(db);
}
