import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Carts of the orders context (the order read models
// are projection tables, created by the projections runner).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('order_carts')
    .addColumn('id', 'uuid', (column) => column.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('owner_kind', 'text', (column) => column.notNull().check(sql`owner_kind in ('user', 'token')`))
    .addColumn('owner_key', 'text', (column) => column.notNull())
    .addColumn('restaurant_id', 'uuid')
    .addColumn('items', 'jsonb', (column) => column.notNull().defaultTo(sql`'[]'::jsonb`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (column) => column.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('order_carts_owner_key', ['owner_kind', 'owner_key'])
    .execute();
  await db.schema
    .createIndex('order_carts_expires_idx')
    .on('order_carts')
    .column('expires_at')
    .where(sql.ref('expires_at'), 'is not', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('order_carts').execute();
}
