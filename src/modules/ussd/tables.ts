import type { Generated, Kysely } from 'kysely';

/** A person who set a USSD PIN: its argon2 hash, their language, and the lockout of wrong PINs. */
export interface UssdSubscribersTable {
  user_id: string;
  pin_hash: string;
  language: 'fr' | 'en';
  failed_attempts: Generated<number>;
  locked_until: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface UssdTables {
  ussd_subscribers: UssdSubscribersTable;
}

export type UssdDb = Kysely<UssdTables>;
