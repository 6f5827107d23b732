import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A bulk order's deposit or balance paid directly by
// Mobile Money (issue #27, docs/community.md "Paying by Mobile Money"): a request asked with
// Mobile Money waits `awaiting_deposit` (its customer's only) until its deposit lands in escrow;
// `deposit_state` says where that deposit stands (`paid` for every wallet request, as before);
// the balance may be `collecting`; the collection in flight is named by its payment id. Each
// collection that landed in a request's escrow gets one decision, kept or returned to the wallet,
// so a webhook, a poll, the sweep and a retry all book the same thing.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE bulk_orders DROP CONSTRAINT IF EXISTS bulk_orders_status_check`.execute(db);
  await sql`ALTER TABLE bulk_orders DROP CONSTRAINT IF EXISTS bulk_orders_balance_state_check`.execute(db);
  await sql`
    ALTER TABLE bulk_orders
      ADD CONSTRAINT bulk_orders_status_check
        CHECK (status IN ('paying', 'awaiting_deposit', 'requested', 'proposed', 'confirmed', 'placing',
                          'placed', 'cancelled', 'refused', 'expired', 'failed')),
      ADD CONSTRAINT bulk_orders_balance_state_check
        CHECK (balance_state IN ('due', 'paying', 'collecting', 'paid')),
      ADD COLUMN deposit_state text NOT NULL DEFAULT 'paid'
        CHECK (deposit_state IN ('due', 'collecting', 'paid')),
      ADD COLUMN deposit_payment_id uuid,
      ADD COLUMN balance_payment_id uuid`.execute(db);
  await sql`DROP INDEX IF EXISTS bulk_orders_live_idx`.execute(db);
  await sql`CREATE INDEX bulk_orders_live_idx ON bulk_orders (updated_at)
    WHERE status IN ('paying', 'awaiting_deposit', 'requested', 'proposed', 'confirmed', 'placing')
       OR NOT refunds_done`.execute(db);
  await sql`
    CREATE TABLE bulk_order_collections (
      payment_id uuid PRIMARY KEY,
      bulk_order_id uuid NOT NULL,
      part text NOT NULL CHECK (part IN ('deposit', 'balance')),
      amount_minor int8 NOT NULL CHECK (amount_minor > 0),
      outcome text NOT NULL CHECK (outcome IN ('kept', 'returned')),
      decided_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX bulk_order_collections_order_idx ON bulk_order_collections (bulk_order_id)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bulk_order_collections').ifExists().execute();
  await sql`
    ALTER TABLE bulk_orders
      DROP COLUMN IF EXISTS deposit_state,
      DROP COLUMN IF EXISTS deposit_payment_id,
      DROP COLUMN IF EXISTS balance_payment_id`.execute(db);
}
