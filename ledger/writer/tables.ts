import type { ColumnType, Generated } from 'kysely';

/** The ledger writer's snapshot tables (migration 2026-11-25T1510_ledger_writer). */
type Int8 = ColumnType<bigint, bigint | string, bigint | string>;

export interface LedgerSnapshotsTable {
  stream: string;
  revision: Int8;
  last_hash: string;
  last_timestamp_ns: Int8;
  transfer_count: Int8;
  updated_at: Generated<Date>;
}

export interface LedgerSnapshotAccountsTable {
  stream: string;
  id: string;
  currency: string;
  kind: string;
  debits_must_not_exceed_credits: boolean;
  credits_must_not_exceed_debits: boolean;
  debits_pending: Int8;
  debits_posted: Int8;
  credits_pending: Int8;
  credits_posted: Int8;
  closed: boolean;
  revision: Int8;
}

export interface LedgerSnapshotTransfersTable {
  stream: string;
  id: string;
  revision: Int8;
  body: string;
}

export interface LedgerSnapshotHoldsTable {
  stream: string;
  transfer_id: string;
  debit_account_id: string;
  credit_account_id: string;
  currency: string;
  held_minor: Int8;
  expires_at_ns: ColumnType<bigint | null, bigint | string | null, bigint | string | null>;
  status: string;
  posted_minor: Int8;
  resolved_by_id: string | null;
}

/** Ledger calls forwarded to the lease holder (migration 2026-12-04T2300_ledger_relay, relay.ts). */
export interface LedgerRelayTable {
  id: string;
  /** The writer's stream: only that stream's holder serves the call. */
  stream: string;
  kind: 'submit' | 'account' | 'ping';
  payload: string;
  reply_to: string;
  created_at: Generated<Date>;
  claimed_at: Date | null;
  claimed_by: string | null;
  answer: string | null;
  answered_at: Date | null;
}

export interface LedgerTables {
  ledger_relay: LedgerRelayTable;
  ledger_snapshots: LedgerSnapshotsTable;
  ledger_snapshot_accounts: LedgerSnapshotAccountsTable;
  ledger_snapshot_transfers: LedgerSnapshotTransfersTable;
  ledger_snapshot_holds: LedgerSnapshotHoldsTable;
}
