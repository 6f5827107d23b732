import { sql } from 'kysely';
import type { UssdDb, UssdSubscribersTable } from './tables.js';

export type Subscriber = Omit<UssdSubscribersTable, 'failed_attempts' | 'created_at' | 'updated_at'> & {
  failed_attempts: number;
};

export function createUssdRepository(db: UssdDb) {
  return {
    async find(userId: string): Promise<Subscriber | undefined> {
      return db
        .selectFrom('ussd_subscribers')
        .select(['user_id', 'pin_hash', 'language', 'failed_attempts', 'locked_until'])
        .where('user_id', '=', userId)
        .executeTakeFirst();
    },
    /** Sets the PIN (and language); a second registration of the same person replaces the PIN. */
    async register(userId: string, pinHash: string, language: 'fr' | 'en'): Promise<void> {
      await db
        .insertInto('ussd_subscribers')
        .values({ user_id: userId, pin_hash: pinHash, language })
        .onConflict((conflict) =>
          conflict.column('user_id').doUpdateSet({
            pin_hash: pinHash,
            language,
            failed_attempts: 0,
            locked_until: null,
            updated_at: sql`now()`,
          }),
        )
        .execute();
    },
    async setLanguage(userId: string, language: 'fr' | 'en'): Promise<void> {
      await db
        .updateTable('ussd_subscribers')
        .set({ language, updated_at: sql`now()` })
        .where('user_id', '=', userId)
        .execute();
    },
    /** One more wrong PIN; at `max` the account locks until `lockUntil`. Answers the count. */
    async failPin(userId: string, max: number, lockUntil: Date): Promise<number> {
      const row = await db
        .updateTable('ussd_subscribers')
        .set({
          failed_attempts: sql`failed_attempts + 1`,
          locked_until: sql`CASE WHEN failed_attempts + 1 >= ${max} THEN ${lockUntil}::timestamptz ELSE locked_until END`,
          updated_at: sql`now()`,
        })
        .where('user_id', '=', userId)
        .returning('failed_attempts')
        .executeTakeFirst();
      return row?.failed_attempts ?? max;
    },
    async pinAccepted(userId: string): Promise<void> {
      await db
        .updateTable('ussd_subscribers')
        .set({ failed_attempts: 0, locked_until: null, updated_at: sql`now()` })
        .where('user_id', '=', userId)
        .where('failed_attempts', '>', 0)
        .execute();
    },
    async erase(userId: string): Promise<number> {
      const result = await db.deleteFrom('ussd_subscribers').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}

export type UssdRepository = ReturnType<typeof createUssdRepository>;
