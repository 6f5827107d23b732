import { type Kysely, sql } from 'kysely';

// Frozen in time: no application imports. The ledger writer's own durable state (docs/architecture.md, decision 5):
// an incremental snapshot of one ledger stream, written by its writer every N events in one
// transaction. The stream stays the source of truth; these tables let a writer restart from a
// snapshot plus the tail, reload accounts it evicted from memory, and answer `exists` for
// transfers it no longer keeps in memory. Read models live in projections, never here.
export async function up(db: Kysely<any>): Promise<void> {
  // The snapshot header: what the writer needs to continue the stream and its hash chain.
  await sql`
    CREATE TABLE ledger_snapshots (
      stream text PRIMARY KEY,
      revision bigint NOT NULL,
      last_hash text NOT NULL CHECK (last_hash ~ '^[0-9a-f]{64}$'),
      last_timestamp_ns bigint NOT NULL,
      transfer_count bigint NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`
    CREATE TABLE ledger_snapshot_accounts (
      stream text NOT NULL,
      id text NOT NULL,
      currency text NOT NULL,
      kind text NOT NULL,
      debits_must_not_exceed_credits boolean NOT NULL,
      credits_must_not_exceed_debits boolean NOT NULL,
      debits_pending bigint NOT NULL CHECK (debits_pending >= 0),
      debits_posted bigint NOT NULL CHECK (debits_posted >= 0),
      credits_pending bigint NOT NULL CHECK (credits_pending >= 0),
      credits_posted bigint NOT NULL CHECK (credits_posted >= 0),
      closed boolean NOT NULL,
      revision bigint NOT NULL,
      PRIMARY KEY (stream, id)
    )`.execute(db);
  // Every accepted transfer id with its canonical body: the durable half of the idempotency index.
  await sql`
    CREATE TABLE ledger_snapshot_transfers (
      stream text NOT NULL,
      id text NOT NULL,
      revision bigint NOT NULL,
      body text NOT NULL,
      PRIMARY KEY (stream, id)
    )`.execute(db);
  await sql`
    CREATE TABLE ledger_snapshot_holds (
      stream text NOT NULL,
      transfer_id text NOT NULL,
      debit_account_id text NOT NULL,
      credit_account_id text NOT NULL,
      currency text NOT NULL,
      held_minor bigint NOT NULL,
      expires_at_ns bigint,
      status text NOT NULL CHECK (status IN ('pending', 'posted', 'voided', 'expired')),
      posted_minor bigint NOT NULL,
      resolved_by_id text,
      PRIMARY KEY (stream, transfer_id)
    )`.execute(db);
  await sql`CREATE INDEX ledger_snapshot_holds_open_idx ON ledger_snapshot_holds (stream)
    WHERE status = 'pending'`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE IF EXISTS ledger_snapshot_holds, ledger_snapshot_transfers,
    ledger_snapshot_accounts, ledger_snapshots`.execute(db);
}
