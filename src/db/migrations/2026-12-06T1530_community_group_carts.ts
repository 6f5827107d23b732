import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Group orders (issue #27, docs/community.md): a host's
// shared cart that members join by code, each member's own lines, and the shares they pay. The
// money itself is on the ledger (the cart's escrow, `escrow:group:<cart>:XAF`); these rows say
// who owes what and where each share stands, so a sweep can finish or refund what a crash left.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE group_carts (
      id uuid PRIMARY KEY,
      code text NOT NULL UNIQUE,
      host_id uuid NOT NULL,
      restaurant_id uuid NOT NULL,
      status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'locked', 'placing', 'placed', 'abandoned', 'expired', 'failed')),
      payment_mode text CHECK (payment_mode IN ('host', 'split')),
      delivery jsonb,
      tip_minor int8 NOT NULL DEFAULT 0 CHECK (tip_minor >= 0),
      total_minor int8 CHECK (total_minor > 0),
      order_id uuid NOT NULL UNIQUE,
      released boolean NOT NULL DEFAULT false,
      failure text,
      expires_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX group_carts_due_idx ON group_carts (expires_at) WHERE status IN ('open', 'locked')`.execute(
    db,
  );
  await sql`CREATE INDEX group_carts_placing_idx ON group_carts (updated_at) WHERE status IN ('placing', 'locked')`.execute(
    db,
  );
  await sql`CREATE INDEX group_carts_host_idx ON group_carts (host_id, created_at DESC)`.execute(db);
  await sql`
    CREATE TABLE group_cart_members (
      cart_id uuid NOT NULL REFERENCES group_carts (id) ON DELETE CASCADE,
      user_id uuid NOT NULL,
      lines jsonb NOT NULL DEFAULT '[]',
      joined_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (cart_id, user_id)
    )`.execute(db);
  await sql`CREATE INDEX group_cart_members_user_idx ON group_cart_members (user_id)`.execute(db);
  await sql`
    CREATE TABLE group_cart_shares (
      cart_id uuid NOT NULL REFERENCES group_carts (id) ON DELETE CASCADE,
      payer_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('share', 'cover')),
      amount_minor int8 NOT NULL CHECK (amount_minor > 0),
      status text NOT NULL DEFAULT 'due'
        CHECK (status IN ('due', 'collecting', 'paying', 'paid', 'waived', 'refunded')),
      payment_id text,
      paid_at timestamptz,
      refunded_at timestamptz,
      PRIMARY KEY (cart_id, payer_id, kind)
    )`.execute(db);
  await sql`CREATE INDEX group_cart_shares_payer_idx ON group_cart_shares (payer_id)`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('group_cart_shares').ifExists().execute();
  await db.schema.dropTable('group_cart_members').ifExists().execute();
  await db.schema.dropTable('group_carts').ifExists().execute();
}
