import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Bulk orders (issue #27, docs/community.md "Bulk
// orders"): a customer's request for a large order from one restaurant at a time well ahead, the
// restaurant's answer, and where its deposit and balance stand. The money itself is on the ledger
// (the request's own escrow, `escrow:bulk:<id>:XAF`); this row says what is owed and held, so the
// sweep can finish or refund what a crash left.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE bulk_orders (
      id uuid PRIMARY KEY,
      customer_id uuid NOT NULL,
      restaurant_id uuid NOT NULL,
      lines jsonb NOT NULL,
      delivery jsonb NOT NULL,
      note text,
      scheduled_for timestamptz NOT NULL,
      status text NOT NULL DEFAULT 'paying'
        CHECK (status IN ('paying', 'requested', 'proposed', 'confirmed', 'placing', 'placed',
                          'cancelled', 'refused', 'expired', 'failed')),
      total_minor int8 NOT NULL CHECK (total_minor > 0),
      deposit_minor int8 NOT NULL CHECK (deposit_minor > 0),
      balance_minor int8 NOT NULL CHECK (balance_minor >= 0),
      balance_state text NOT NULL DEFAULT 'due' CHECK (balance_state IN ('due', 'paying', 'paid')),
      respond_by timestamptz NOT NULL,
      proposed_for timestamptz,
      proposal_note text,
      released boolean NOT NULL DEFAULT false,
      deposit_refund_minor int8 CHECK (deposit_refund_minor >= 0),
      refunds_done boolean NOT NULL DEFAULT false,
      order_id uuid NOT NULL UNIQUE,
      failure text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      CHECK (deposit_minor + balance_minor = total_minor)
    )`.execute(db);
  await sql`CREATE INDEX bulk_orders_customer_idx ON bulk_orders (customer_id, created_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX bulk_orders_restaurant_idx ON bulk_orders (restaurant_id, created_at DESC, id DESC)`.execute(
    db,
  );
  await sql`CREATE INDEX bulk_orders_live_idx ON bulk_orders (updated_at)
    WHERE status IN ('paying', 'requested', 'proposed', 'confirmed', 'placing') OR NOT refunds_done`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bulk_orders').ifExists().execute();
}
