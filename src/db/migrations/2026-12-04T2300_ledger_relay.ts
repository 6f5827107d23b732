import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. Ledger calls forwarded to the writer's lease holder
// (ledger/writer/relay.ts): an instance without the lease inserts its call here and NOTIFYs
// `ledger_relay`; the holder claims it, runs it against its writer, writes the answer and NOTIFYs
// the caller's channel; the caller deletes the row as it reads the answer.
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE TABLE ledger_relay (
              id uuid PRIMARY KEY,
              stream text NOT NULL,
              kind text NOT NULL CHECK (kind IN ('submit', 'account', 'ping')),
              payload text NOT NULL,
              reply_to text NOT NULL,
              created_at timestamptz NOT NULL DEFAULT now(),
              claimed_at timestamptz,
              claimed_by text,
              answer text,
              answered_at timestamptz
            )`.execute(db);
  await sql`CREATE INDEX ledger_relay_unanswered ON ledger_relay (stream, created_at) WHERE answer IS NULL`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE ledger_relay`.execute(db);
}
