import { sql } from 'kysely';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { IdentityDb } from './tables.js';
import { userIndexes, type Executor } from './executor.js';

/** The identity repository's SQL for login attempts, one-time codes, password resets and two-factor. */
export function createCredentialQueries(db: IdentityDb, fields: FieldCipher) {
  const on = (transaction?: Executor) => transaction ?? db;
  const index = userIndexes(fields);
  return {
    // ---- login attempts
    insertLoginAttempt: (
      attempt: {
        identifierHash: string;
        identifierMasked: string;
        userId: string | null;
        ip: string | null;
        userAgent: string | null;
        success: boolean;
        reason: string;
      },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('login_attempts')
        .values({
          identifier_hash: attempt.identifierHash,
          identifier_masked: attempt.identifierMasked,
          user_id: attempt.userId,
          ip_address: attempt.ip,
          user_agent: attempt.userAgent?.slice(0, 300) ?? null,
          success: attempt.success,
          reason: attempt.reason,
        })
        .execute(),

    // ---- one-time codes
    insertPhoneCode: (
      row: { phone: string; purpose: string; codeHash: string; maxAttempts: number; expiresAt: Date },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('phone_verifications')
        .values({
          phone: index.phone(row.phone),
          purpose: row.purpose,
          code_hash: row.codeHash,
          max_attempts: row.maxAttempts,
          expires_at: row.expiresAt,
        })
        .returning('id')
        .executeTakeFirstOrThrow(),
    supersedePhoneCodes: (phone: string, purpose: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('phone_verifications')
        .set({ consumed_at: sql`now()` } as never)
        .where('phone', '=', index.phone(phone))
        .where('purpose', '=', purpose)
        .where('consumed_at', 'is', null)
        .execute(),
    latestActivePhoneCode: (phone: string, purpose: string, transaction: Executor) =>
      transaction
        .selectFrom('phone_verifications')
        .selectAll()
        .where('phone', '=', index.phone(phone))
        .where('purpose', '=', purpose)
        .where('consumed_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(1)
        .forUpdate()
        .executeTakeFirst(),
    updatePhoneCode: (
      id: string,
      changes: { attempts?: number; consumed?: boolean },
      transaction?: Executor,
    ) =>
      on(transaction)
        .updateTable('phone_verifications')
        .set({
          ...(changes.attempts === undefined ? {} : { attempts: changes.attempts }),
          ...(changes.consumed === true ? { consumed_at: sql`now()` } : {}),
        } as never)
        .where('id', '=', id)
        .execute(),

    // ---- password resets
    insertPasswordReset: (
      row: { tokenHash: string; userId: string; expiresAt: Date },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('password_resets')
        .values({ token_hash: row.tokenHash, user_id: row.userId, expires_at: row.expiresAt })
        .execute(),
    countPasswordResetsSince: async (userId: string, since: Date, transaction?: Executor) => {
      const row = await on(transaction)
        .selectFrom('password_resets')
        .select((builder) => builder.fn.countAll<string>().as('count'))
        .where('user_id', '=', userId)
        .where('created_at', '>=', since)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    findUsablePasswordReset: (tokenHash: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('password_resets')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .executeTakeFirst(),
    /** Takes a reset token once: marks it used and returns it, or undefined when not usable. */
    consumePasswordReset: (tokenHash: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('password_resets')
        .set({ used_at: sql`now()` } as never)
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .returningAll()
        .executeTakeFirst(),

    // ---- two-factor
    findTwoFactor: (userId: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('two_factor_auth')
        .selectAll()
        .where('user_id', '=', userId)
        .executeTakeFirst(),
    lockTwoFactor: (userId: string, transaction: Executor) =>
      transaction
        .selectFrom('two_factor_auth')
        .selectAll()
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirst(),
    upsertTwoFactorSecret: (userId: string, secretCiphertext: Buffer, transaction?: Executor) =>
      on(transaction)
        .insertInto('two_factor_auth')
        .values({ user_id: userId, secret_ciphertext: secretCiphertext })
        .onConflict((conflict) =>
          conflict.column('user_id').doUpdateSet({
            secret_ciphertext: secretCiphertext,
            backup_code_hashes: [],
            enabled_at: null,
            last_used_step: null,
          }),
        )
        .execute(),
    updateTwoFactor: (
      userId: string,
      changes: { enabledAt?: Date; lastUsedStep?: bigint | number; backupCodeHashes?: string[] },
      transaction?: Executor,
    ) =>
      on(transaction)
        .updateTable('two_factor_auth')
        .set({
          ...(changes.enabledAt === undefined ? {} : { enabled_at: changes.enabledAt }),
          ...(changes.lastUsedStep === undefined
            ? {}
            : { last_used_step: changes.lastUsedStep, last_used_at: new Date() }),
          ...(changes.backupCodeHashes === undefined ? {} : { backup_code_hashes: changes.backupCodeHashes }),
        })
        .where('user_id', '=', userId)
        .execute(),
    deleteTwoFactor: (userId: string, transaction?: Executor) =>
      on(transaction).deleteFrom('two_factor_auth').where('user_id', '=', userId).execute(),
  };
}
