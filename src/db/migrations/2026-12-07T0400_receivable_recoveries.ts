import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. A customer's receivable recovered from later credits
// (issue #28): one row per wallet credit the recovery looked at, keyed by the credit's ledger
// transfer id, so a credit is considered once whatever runs again (a second instance, a retry, a
// replay). The amount is fixed on the row before the ledger is asked (DECIDED), so a retry after a
// crash submits the same transfer under the same id; BOOKED once the ledger answered ok/exists;
// NOTHING when there was nothing to take (the wallet held nothing any more, or nothing was owed).
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE receivable_recoveries (
      credit_transfer_id text PRIMARY KEY,
      recovery_transfer_id text NOT NULL UNIQUE,
      user_id uuid NOT NULL,
      currency text NOT NULL CHECK (currency IN ('XAF', 'USD')),
      credit_code text NOT NULL,
      credit_minor int8 NOT NULL CHECK (credit_minor > 0),
      recovered_minor int8 CHECK (recovered_minor >= 0 AND recovered_minor <= credit_minor),
      owed_after_minor int8 CHECK (owed_after_minor >= 0),
      status text NOT NULL DEFAULT 'DECIDED' CHECK (status IN ('DECIDED', 'BOOKED', 'NOTHING')),
      created_at timestamptz NOT NULL DEFAULT now(),
      booked_at timestamptz
    )`.execute(db);
  await sql`CREATE INDEX receivable_recoveries_user_idx ON receivable_recoveries (user_id, currency, created_at)`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS receivable_recoveries`.execute(db);
}
