import { sql, type Selectable } from 'kysely';
import type { IdentityDb, SessionsTable } from './tables.js';
import type { Executor } from './executor.js';

/** The identity repository's SQL for sessions, refresh tokens and durable revocation. */
export function createSessionQueries(db: IdentityDb) {
  const on = (transaction?: Executor) => transaction ?? db;
  return {
    // ---- sessions and refresh tokens
    insertSession: (
      session: {
        userId: string;
        kind: 'user' | 'guest';
        client: 'web' | 'mobile';
        ip: string | null;
        userAgent: string | null;
        deviceHash: string | null;
        twoFactorVerified: boolean;
        expiresAt: Date;
      },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('sessions')
        .values({
          user_id: session.userId,
          kind: session.kind,
          client: session.client,
          ip_address: session.ip,
          user_agent: session.userAgent,
          device_hash: session.deviceHash,
          two_factor_verified: session.twoFactorVerified,
          expires_at: session.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    /** The devices (keyed hashes) this person has signed in on, newest first (referrals' check). */
    deviceHashesOf: async (userId: string, limit = 50): Promise<string[]> =>
      (
        await db
          .selectFrom('sessions')
          .select('device_hash')
          .select((eb) => eb.fn.max('created_at').as('last_seen'))
          .where('user_id', '=', userId)
          .where('device_hash', 'is not', null)
          .groupBy('device_hash')
          .orderBy('last_seen', 'desc')
          .limit(limit)
          .execute()
      ).map((row) => row.device_hash!),
    /** Erasure: the person's devices are no longer linkable to anyone else's. */
    forgetDevices: (userId: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('sessions')
        .set({ device_hash: null })
        .where('user_id', '=', userId)
        .where('device_hash', 'is not', null)
        .execute(),
    findSession: (id: string, transaction?: Executor) =>
      on(transaction).selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst(),
    updateSession: (
      id: string,
      changes: Partial<
        Pick<Selectable<SessionsTable>, 'last_activity_at' | 'step_up_at' | 'two_factor_verified' | 'kind'>
      >,
      transaction?: Executor,
    ) => on(transaction).updateTable('sessions').set(changes).where('id', '=', id).execute(),
    revokeSession: (id: string, reason: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('sessions')
        .set({ revoked_at: sql`now()`, revoked_reason: reason } as never)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning(['id', 'user_id'])
        .executeTakeFirst(),
    revokeUserSessions: async (
      userId: string,
      reason: string,
      exceptSessionId?: string,
      transaction?: Executor,
    ) => {
      const rows = await on(transaction)
        .updateTable('sessions')
        .set({ revoked_at: sql`now()`, revoked_reason: reason } as never)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .$if(exceptSessionId !== undefined, (builder) => builder.where('id', '!=', exceptSessionId!))
        .returning('id')
        .execute();
      return rows.map((row) => row.id);
    },
    // ---- durable revocation (revocations.ts)
    /** Voids the user's tokens issued at or before `at`; never moves the instant back. */
    revokeTokensBefore: (userId: string, at: Date, transaction?: Executor) =>
      on(transaction)
        .updateTable('users')
        .set({ tokens_revoked_before: sql`greatest(tokens_revoked_before, ${at})` } as never)
        .where('id', '=', userId)
        .execute(),
    /** What revokes one token: its session's end and its user's "revoked before" instant. */
    revocationOf: (sessionId: string, userId: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .select(['sessions.revoked_at', 'users.tokens_revoked_before'])
        .where('sessions.id', '=', sessionId)
        .where('sessions.user_id', '=', userId)
        .executeTakeFirst(),
    /** Sessions ended and users revoked within the last `withinMs` (by the database's clock), at most `limit` each. */
    recentRevocations: async (withinMs: number, limit: number, transaction?: Executor) => {
      const since = sql<Date>`now() - make_interval(secs => ${withinMs / 1000})`;
      const [sessions, users] = await Promise.all([
        on(transaction)
          .selectFrom('sessions')
          .select('id')
          .where('revoked_at', '>', since)
          .limit(limit)
          .execute(),
        on(transaction)
          .selectFrom('users')
          .select(['id', 'tokens_revoked_before'])
          .where('tokens_revoked_before', '>', since)
          .limit(limit)
          .execute(),
      ]);
      return {
        sessionIds: sessions.map((row) => row.id),
        users: users.map((row) => ({ userId: row.id, revokedBefore: row.tokens_revoked_before! })),
      };
    },
    listActiveSessions: (userId: string, limit: number, transaction?: Executor) =>
      on(transaction)
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', sql<Date>`now()`)
        .orderBy('last_activity_at', 'desc')
        .limit(limit)
        .execute(),
    insertRefreshToken: (
      row: { tokenHash: string; sessionId: string; expiresAt: Date },
      transaction?: Executor,
    ) =>
      on(transaction)
        .insertInto('refresh_tokens')
        .values({ token_hash: row.tokenHash, session_id: row.sessionId, expires_at: row.expiresAt })
        .execute(),
    /** Marks the token used; undefined when it was already rotated (a reuse) or never existed. */
    rotateRefreshToken: (tokenHash: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('refresh_tokens')
        .set({ rotated_at: sql`now()` } as never)
        .where('token_hash', '=', tokenHash)
        .where('rotated_at', 'is', null)
        .returningAll()
        .executeTakeFirst(),
    findRefreshToken: (tokenHash: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('refresh_tokens')
        .selectAll()
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst(),
  };
}
