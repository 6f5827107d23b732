import { sql } from 'kysely';
import type { IdentityDb } from './tables.js';
import type { Executor } from './executor.js';

/** The identity repository's SQL for request-signing clients, signing keys and retention. */
export function createKeyQueries(db: IdentityDb) {
  const on = (transaction?: Executor) => transaction ?? db;
  return {
    // ---- request-signing clients
    findSigningClient: (keyId: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('api_signing_clients')
        .selectAll()
        .where('key_id', '=', keyId)
        .executeTakeFirst(),
    insertSigningClient: (
      row: { keyId: string; name: string; scopes: string[]; secretCiphertext: Buffer; expiresAt: Date },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('api_signing_clients')
        .values({
          key_id: row.keyId,
          name: row.name,
          scopes: row.scopes,
          secret_ciphertext: row.secretCiphertext,
          expires_at: row.expiresAt,
        })
        .execute(),

    // ---- retention (the signed maintenance job)
    purgeExpired: async (olderThan: { attemptsBefore: Date; now: Date }, transaction?: Executor) => {
      const executor = on(transaction);
      const tokens = await executor
        .deleteFrom('refresh_tokens')
        .where('expires_at', '<', olderThan.now)
        .executeTakeFirst();
      const codes = await executor
        .deleteFrom('phone_verifications')
        .where('expires_at', '<', new Date(olderThan.now.getTime() - 86_400_000))
        .executeTakeFirst();
      const resets = await executor
        .deleteFrom('password_resets')
        .where('expires_at', '<', olderThan.now)
        .executeTakeFirst();
      const attempts = await executor
        .deleteFrom('login_attempts')
        .where('attempted_at', '<', olderThan.attemptsBefore)
        .executeTakeFirst();
      return {
        refreshTokens: Number(tokens.numDeletedRows),
        phoneCodes: Number(codes.numDeletedRows),
        passwordResets: Number(resets.numDeletedRows),
        loginAttempts: Number(attempts.numDeletedRows),
      };
    },

    // ---- signing keys
    listSigningKeys: (transaction?: Executor) =>
      on(transaction)
        .selectFrom('signing_keys')
        .selectAll()
        .where('verify_until', '>', sql<Date>`now()`)
        .orderBy('created_at', 'desc')
        .execute(),
    insertSigningKey: (
      row: {
        kid: string;
        alg: string;
        publicJwk: unknown;
        privateKeyCiphertext: Buffer;
        retireAfter: Date;
        verifyUntil: Date;
      },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('signing_keys')
        .values({
          kid: row.kid,
          alg: row.alg,
          public_jwk: JSON.stringify(row.publicJwk),
          private_key_ciphertext: row.privateKeyCiphertext,
          retire_after: row.retireAfter,
          verify_until: row.verifyUntil,
        })
        .execute(),
    retireSigningKeys: (retireAfter: Date, verifyUntil: Date, exceptKid: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('signing_keys')
        .set({ retire_after: retireAfter, verify_until: verifyUntil })
        .where('kid', '!=', exceptKid)
        .where('retire_after', '>', retireAfter)
        .execute(),
  };
}
