import type { ColumnType, Generated } from 'kysely';

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
  created_at: Generated<Date>;
  expires_at: ColumnType<Date, Date | string, Date | string>;
  /** Until when the claiming request holds the key; after it a retry takes it over. */
  lease_expires_at: ColumnType<Date, Date | string | undefined, Date | string>;
  /** Which attempt holds the key (null on keys claimed before leases existed). */
  claim_token: string | null;
}

export interface SystemStateTable {
  key: string;
  value: unknown;
  updated_at: Generated<Date>;
}

export interface FoundationTables {
  idempotency_keys: IdempotencyKeysTable;
  system_state: SystemStateTable;
}
