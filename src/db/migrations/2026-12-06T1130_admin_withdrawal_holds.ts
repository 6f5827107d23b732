import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Admins' holds on a payee's payouts and withdrawals
// (issue #23): a driver, a restaurant or a customer named by an admin (with a reason) is paid
// nothing while the hold lasts; payments refuses requests and approvals and holds back a payout
// not yet sent. One active hold per payee; released by an admin, audited.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE admin_withdrawal_holds (
      id uuid PRIMARY KEY,
      payee_kind text NOT NULL CHECK (payee_kind IN ('driver', 'restaurant', 'customer')),
      payee_id uuid NOT NULL,
      reason text NOT NULL,
      placed_by text NOT NULL,
      placed_at timestamptz NOT NULL DEFAULT now(),
      released_at timestamptz,
      released_by text,
      release_note text
    )`.execute(db);
  await sql`CREATE UNIQUE INDEX admin_withdrawal_holds_active_idx
    ON admin_withdrawal_holds (payee_kind, payee_id) WHERE released_at IS NULL`.execute(db);
  await sql`CREATE INDEX admin_withdrawal_holds_placed_idx ON admin_withdrawal_holds (placed_at DESC, id DESC)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS admin_withdrawal_holds`.execute(db);
}
