import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Support (issue #22): dispute remedies an agent decides
// (goodwill credit, refund to the wallet or by Mobile Money with the restaurant's, driver's and
// platform's shares, mediation notes), each booked on the ledger once under transfer ids named
// after the remedy; and, per ticket, how often it was reopened and the opener's satisfaction
// rating (CSAT, 1-5) once it is resolved.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE support_remedies (
      id uuid PRIMARY KEY,
      ticket_id uuid NOT NULL REFERENCES support_tickets (id) ON DELETE CASCADE,
      order_id uuid,
      beneficiary_id uuid NOT NULL,
      kind text NOT NULL CHECK (kind IN ('goodwill_credit', 'refund', 'mediation_note')),
      amount_minor bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
      restaurant_minor bigint NOT NULL DEFAULT 0 CHECK (restaurant_minor >= 0),
      driver_minor bigint NOT NULL DEFAULT 0 CHECK (driver_minor >= 0),
      platform_minor bigint NOT NULL DEFAULT 0 CHECK (platform_minor >= 0),
      restaurant_id uuid,
      driver_id uuid,
      refund_to text CHECK (refund_to IN ('wallet', 'mobile_money')),
      note text,
      decided_by uuid NOT NULL,
      status text NOT NULL CHECK (status IN ('deciding', 'booked')),
      payout_id uuid,
      payout_refusal text,
      created_at timestamptz NOT NULL DEFAULT now(),
      booked_at timestamptz,
      CHECK (restaurant_minor + driver_minor + platform_minor = amount_minor OR kind <> 'refund')
    )`.execute(db);
  await sql`CREATE INDEX support_remedies_ticket_idx ON support_remedies (ticket_id, created_at)`.execute(db);
  await sql`CREATE INDEX support_remedies_order_idx ON support_remedies (order_id) WHERE order_id IS NOT NULL`.execute(
    db,
  );
  await sql`CREATE INDEX support_remedies_decided_by_idx ON support_remedies (decided_by)`.execute(db);
  await sql`
    ALTER TABLE support_tickets
      ADD COLUMN reopen_count int NOT NULL DEFAULT 0,
      ADD COLUMN csat_score smallint CHECK (csat_score BETWEEN 1 AND 5),
      ADD COLUMN csat_at timestamptz`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE support_tickets DROP COLUMN IF EXISTS reopen_count, DROP COLUMN IF EXISTS csat_score,
    DROP COLUMN IF EXISTS csat_at`.execute(db);
  await db.schema.dropTable('support_remedies').ifExists().execute();
}
