import type { Selectable } from 'kysely';
import type { Executor } from './executor.js';
import type { SocialProviderName } from './social-providers.js';
import type { IdentityDb, SocialIdentitiesTable } from './tables.js';

/** The SQL of linked Google and Facebook accounts (social.ts holds the rules). */
export type SocialIdentityRow = Selectable<SocialIdentitiesTable>;

/** A person links at most one account per provider, so a list is at most this long. */
export const SOCIAL_IDENTITIES_MAX = 10;

export function createSocialRepository(db: IdentityDb) {
  const on = (transaction?: Executor) => transaction ?? db;
  return {
    find: (provider: SocialProviderName, subject: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('social_identities')
        .selectAll()
        .where('provider', '=', provider)
        .where('subject', '=', subject)
        .executeTakeFirst(),

    listForUser: (userId: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('social_identities')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at')
        .limit(SOCIAL_IDENTITIES_MAX)
        .execute(),

    insert: (
      row: { userId: string; provider: SocialProviderName; subject: string },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('social_identities')
        .values({
          user_id: row.userId,
          provider: row.provider,
          subject: row.subject,
          last_used_at: new Date(),
        })
        .returningAll()
        .executeTakeFirstOrThrow(),

    touch: async (id: string) => {
      await db
        .updateTable('social_identities')
        .set({ last_used_at: new Date() })
        .where('id', '=', id)
        .execute();
    },

    delete: async (userId: string, provider: SocialProviderName, transaction?: Executor) =>
      Number(
        (
          await on(transaction)
            .deleteFrom('social_identities')
            .where('user_id', '=', userId)
            .where('provider', '=', provider)
            .executeTakeFirst()
        ).numDeletedRows,
      ),

    /** Erasure: the links go with the person. */
    deleteAllForUser: async (userId: string, transaction?: Executor) => {
      await on(transaction).deleteFrom('social_identities').where('user_id', '=', userId).execute();
    },
  };
}

export type SocialRepository = ReturnType<typeof createSocialRepository>;
