import type { ColumnType, Kysely } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface AdminFeatureFlagsTable {
  key: string;
  description: ColumnType<string, string | undefined, string>;
  enabled: boolean;
  /** Empty: every role. */
  roles: ColumnType<string[], string[] | undefined, string[]>;
  /** 0-100: the share of users (by a stable hash of flag and user) who get it. */
  percentage: number;
  /** Lower-case city slugs; empty: every city. */
  cities: ColumnType<string[], string[] | undefined, string[]>;
  version: ColumnType<number, number | undefined, number>;
  updated_by: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface AdminSettingsTable {
  key: string;
  value: ColumnType<unknown, string, string>;
  version: ColumnType<number, number | undefined, number>;
  updated_by: string | null;
  updated_at: Timestamp;
}

export interface AdminTables {
  admin_feature_flags: AdminFeatureFlagsTable;
  admin_settings: AdminSettingsTable;
}

/** The database as this context sees it: its own tables only. */
export type AdminDb = Kysely<AdminTables>;
