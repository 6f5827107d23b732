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

/** The one SMS of a USSD order, owed from before its placement until sent (order-sms.ts). */
export interface UssdOrderSmsTable {
  order_id: string;
  user_id: string;
  language: 'fr' | 'en';
  status: Generated<'pending' | 'sent' | 'void' | 'failed'>;
  attempts: Generated<number>;
  claimed_until: Date | null;
  last_error: string | null;
  created_at: Generated<Date>;
  sent_at: Date | null;
  updated_at: Generated<Date>;
}

export interface UssdTables {
  ussd_subscribers: UssdSubscribersTable;
  ussd_order_sms: UssdOrderSmsTable;
}

export type UssdDb = Kysely<UssdTables>;
