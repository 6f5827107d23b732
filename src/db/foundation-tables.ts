import type { ColumnType, Generated } from 'kysely';

export interface IdempotencyKeysTable {
  scope: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response_body: unknown;
  created_at: Generated<Date>;
  expires_at: ColumnType<Date, Date | string, Date | string>;
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
