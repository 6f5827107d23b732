import { sql, type Insertable, type Selectable, type Transaction } from 'kysely';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { Role } from '../../shared/principal.js';
import type {
  IdentityDb,
  IdentityTables,
  SessionsTable,
  UserAddressesTable,
  UsersTable,
  UserStatus,
} from './tables.js';

/** All SQL of the identity context. Every method takes an optional transaction. */
export type Executor = IdentityDb | Transaction<IdentityTables>;
export type UserRow = Selectable<UsersTable>;
export type SessionRow = Selectable<SessionsTable>;
/** An address as the application sees it: every field in clear, coordinates as numbers. */
export type AddressRecord = Omit<Selectable<UserAddressesTable>, 'latitude' | 'longitude'> & {
  latitude: number | null;
  longitude: number | null;
};
export type AddressChanges = Partial<Omit<AddressRecord, 'id' | 'user_id' | 'created_at' | 'updated_at'>>;

export interface NewUser {
  phone: string;
  name?: string | null;
  email?: string | null;
  passwordHash?: string | null;
  roles: Role[];
  status: UserStatus;
  phoneVerified?: boolean;
  /** The language of messages to the person (fr or en); the column defaults to fr. */
  locale?: 'fr' | 'en';
}

/** What the users table's personal fields are encrypted and indexed as (the AAD's purpose). */
export const USER_FIELDS = { phone: 'users.phone', email: 'users.email', name: 'users.name' } as const;
/** The encrypted columns of user_addresses (label and city stay in clear). */
export const ADDRESS_FIELDS = ['line1', 'line2', 'district', 'landmark', 'instructions'] as const;
export const ADDRESS_COORDINATES = ['latitude', 'longitude'] as const;

/** Encrypts an address change's personal fields (coordinates as decimal text). */
export function encodeAddress(fields: FieldCipher, changes: AddressChanges): Record<string, unknown> {
  const out: Record<string, unknown> = { ...changes };
  for (const column of ADDRESS_FIELDS)
    if (changes[column] !== undefined)
      out[column] = fields.encrypt(`user_addresses.${column}`, changes[column]);
  for (const column of ADDRESS_COORDINATES)
    if (changes[column] !== undefined)
      out[column] = fields.encrypt(
        `user_addresses.${column}`,
        changes[column] === null ? null : String(changes[column]),
      );
  return out;
}

export function decodeAddress(fields: FieldCipher, row: Selectable<UserAddressesTable>): AddressRecord {
  const out = { ...row } as Record<string, unknown>;
  for (const column of ADDRESS_FIELDS) out[column] = fields.decrypt(`user_addresses.${column}`, row[column]);
  for (const column of ADDRESS_COORDINATES) {
    const text = fields.decrypt(`user_addresses.${column}`, row[column]);
    out[column] = text === null ? null : Number(text);
  }
  return out as AddressRecord;
}
const NAME_TERMS_MAX = 8;

/** Blind indexes of the users table (keyed HMAC of the normalised value). */
export function userIndexes(fields: FieldCipher) {
  return {
    phone: (phone: string) => fields.blindIndex('phone', phone.trim()),
    email: (email: string) => fields.blindIndex('email', email.trim().toLowerCase()),
    nameTerms: (name: string | null): string[] =>
      name === null
        ? []
        : [
            ...new Set(
              name
                .toLowerCase()
                .normalize('NFC')
                .split(/[^\p{L}\p{N}]+/u)
                .filter((word) => word.length >= 2),
            ),
          ]
            .slice(0, NAME_TERMS_MAX)
            .map((word) => fields.blindIndex('name-term', word)),
  };
}

export function createIdentityRepository(db: IdentityDb, fields: FieldCipher) {
  const on = (transaction?: Executor) => transaction ?? db;
  const index = userIndexes(fields);
  /** A row as stored, with phone, e-mail and name decrypted (fails closed on a wrong key). */
  const decoded = <Row extends UserRow | undefined>(row: Row): Row =>
    row === undefined
      ? row
      : ({
          ...row,
          phone: fields.decrypt(USER_FIELDS.phone, row.phone),
          email: fields.decrypt(USER_FIELDS.email, row.email),
          name: fields.decrypt(USER_FIELDS.name, row.name),
        } as Row);
  /** Encrypts the personal fields present in a change and keeps their blind indexes in step. */
  const encoded = (changes: Partial<Omit<UserRow, 'id' | 'created_at'>>): Record<string, unknown> => {
    const out: Record<string, unknown> = { ...changes };
    if (changes.phone !== undefined) {
      out.phone = fields.encrypt(USER_FIELDS.phone, changes.phone);
      out.phone_bidx = changes.phone === null ? null : index.phone(changes.phone);
    }
    if (changes.email !== undefined) {
      out.email = fields.encrypt(USER_FIELDS.email, changes.email);
      out.email_bidx = changes.email === null ? null : index.email(changes.email);
    }
    if (changes.name !== undefined) {
      out.name = fields.encrypt(USER_FIELDS.name, changes.name);
      out.name_terms = index.nameTerms(changes.name);
    }
    return out;
  };
  return {
    transaction: <T>(work: (transaction: Transaction<IdentityTables>) => Promise<T>) =>
      db.transaction().execute(work),

    // ---- users
    insertUser: async (user: NewUser, transaction?: Executor) =>
      decoded(
        await on(transaction)
          .insertInto('users')
          .values({
            ...(encoded({ phone: user.phone, name: user.name ?? null, email: user.email ?? null }) as {
              phone: string;
            }),
            password_hash: user.passwordHash ?? null,
            roles: user.roles,
            status: user.status,
            phone_verified: user.phoneVerified ?? false,
            ...(user.locale === undefined ? {} : { locale: user.locale }),
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      ),
    findUserById: async (id: string, transaction?: Executor) =>
      decoded(await on(transaction).selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()),
    /** Accounts deleted before `before` whose erasure did not finish (a crash in between). */
    pendingErasures: async (before: Date, limit: number) =>
      (
        await db
          .selectFrom('users')
          .select('id')
          .where('status', '=', 'deleted')
          .where('erased_at', 'is', null)
          .where('deleted_at', '<', before)
          .orderBy('deleted_at')
          .limit(limit)
          .execute()
      ).map((row) => row.id),
    findUserByPhone: async (phone: string, transaction?: Executor) =>
      decoded(
        await on(transaction)
          .selectFrom('users')
          .selectAll()
          .where('phone_bidx', '=', index.phone(phone))
          .executeTakeFirst(),
      ),
    lockUserByPhone: async (phone: string, transaction: Executor) =>
      decoded(
        await transaction
          .selectFrom('users')
          .selectAll()
          .where('phone_bidx', '=', index.phone(phone))
          .forUpdate()
          .executeTakeFirst(),
      ),
    lockUserById: async (id: string, transaction: Executor) =>
      decoded(
        await transaction.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst(),
      ),
    emailTakenByOther: async (email: string, userId: string | null, transaction?: Executor) => {
      const row = await on(transaction)
        .selectFrom('users')
        .select('id')
        .where('email_bidx', '=', index.email(email))
        .$if(userId !== null, (builder) => builder.where('id', '!=', userId!))
        .executeTakeFirst();
      return row !== undefined;
    },
    updateUser: async (
      id: string,
      changes: Partial<Omit<UserRow, 'id' | 'created_at'>>,
      transaction?: Executor,
    ) =>
      decoded(
        await on(transaction)
          .updateTable('users')
          .set({
            ...encoded(changes),
            ...(changes.notification_preferences === undefined
              ? {}
              : { notification_preferences: JSON.stringify(changes.notification_preferences) }),
            updated_at: sql`now()`,
          } as never)
          .where('id', '=', id)
          .returningAll()
          .executeTakeFirstOrThrow(),
      ),

    searchUsers: async (
      query: {
        text?: string;
        /** The search text as an E.164 phone, when it is one. */
        phone?: string;
        role?: string;
        status?: string;
        after?: { createdAt: Date; id: string };
        limit: number;
      },
      transaction?: Executor,
    ) =>
      (
        await on(transaction)
          .selectFrom('users')
          .selectAll()
          // Phone, e-mail and name are encrypted: the search matches an exact phone (any spelling
          // the caller normalised to E.164), an exact e-mail, whole words of the name, or the id.
          .$if(query.text !== undefined, (builder) => {
            const text = query.text!;
            const terms = index.nameTerms(text);
            return builder.where((where) =>
              where.or([
                ...(query.phone === undefined ? [] : [where('phone_bidx', '=', index.phone(query.phone))]),
                ...(text.includes('@') ? [where('email_bidx', '=', index.email(text))] : []),
                ...(terms.length === 0
                  ? []
                  : [where(sql<boolean>`name_terms @> ${sql.val(terms)}::text[]`, '=', true)]),
                ...(/^[0-9a-f-]{36}$/i.test(text) ? [where('id', '=', text)] : []),
              ]),
            );
          })
          .$if(query.role !== undefined, (builder) =>
            builder.where(sql<boolean>`${query.role!} = any(roles)`),
          )
          .$if(query.status !== undefined, (builder) =>
            builder.where('status', '=', query.status as UserStatus),
          )
          .$if(query.after !== undefined, (builder) =>
            builder.where((where) =>
              where.or([
                where('created_at', '<', query.after!.createdAt),
                where.and([
                  where('created_at', '=', query.after!.createdAt),
                  where('id', '<', query.after!.id),
                ]),
              ]),
            ),
          )
          .orderBy('created_at', 'desc')
          .orderBy('id', 'desc')
          .limit(query.limit)
          .execute()
      ).map(decoded),
    listAudit: (
      query: { subjectUserId?: string; action?: string; beforeId?: bigint; limit: number },
      transaction?: Executor,
    ) =>
      on(transaction)
        .selectFrom('audit_logs')
        .selectAll()
        .$if(query.subjectUserId !== undefined, (builder) =>
          builder.where('subject_user_id', '=', query.subjectUserId!),
        )
        .$if(query.action !== undefined, (builder) => builder.where('action', '=', query.action!))
        .$if(query.beforeId !== undefined, (builder) => builder.where('id', '<', query.beforeId!))
        .orderBy('id', 'desc')
        .limit(query.limit)
        .execute(),

    // ---- addresses
    listAddresses: async (userId: string, limit: number, transaction?: Executor) =>
      (
        await on(transaction)
          .selectFrom('user_addresses')
          .selectAll()
          .where('user_id', '=', userId)
          .orderBy('created_at', 'asc')
          .limit(limit)
          .execute()
      ).map((row) => decodeAddress(fields, row)),
    countAddresses: async (userId: string, transaction?: Executor) => {
      const row = await on(transaction)
        .selectFrom('user_addresses')
        .select((builder) => builder.fn.countAll<string>().as('count'))
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },
    insertAddress: async (
      row: AddressChanges & Pick<AddressRecord, 'user_id' | 'label' | 'line1' | 'city'>,
      transaction?: Executor,
    ) =>
      decodeAddress(
        fields,
        await on(transaction)
          .insertInto('user_addresses')
          .values(encodeAddress(fields, row) as Insertable<UserAddressesTable>)
          .returningAll()
          .executeTakeFirstOrThrow(),
      ),
    updateAddress: async (userId: string, id: string, changes: AddressChanges, transaction?: Executor) => {
      const row = await on(transaction)
        .updateTable('user_addresses')
        .set({ ...encodeAddress(fields, changes), updated_at: sql`now()` } as never)
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : decodeAddress(fields, row);
    },
    clearDefaultAddress: (userId: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('user_addresses')
        .set({ is_default: false })
        .where('user_id', '=', userId)
        .execute(),
    deleteAddress: async (userId: string, id: string, transaction?: Executor) => {
      const result = await on(transaction)
        .deleteFrom('user_addresses')
        .where('user_id', '=', userId)
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    deleteAllAddresses: (userId: string, transaction?: Executor) =>
      on(transaction).deleteFrom('user_addresses').where('user_id', '=', userId).execute(),

    // ---- personal data (export and erasure)
    sessionsOf: (userId: string, limit: number, transaction?: Executor) =>
      on(transaction)
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute(),
    loginAttemptsOf: (userId: string, identifierHash: string | null, limit: number, transaction?: Executor) =>
      on(transaction)
        .selectFrom('login_attempts')
        .selectAll()
        .where((builder) =>
          builder.or([
            builder('user_id', '=', userId),
            ...(identifierHash === null ? [] : [builder('identifier_hash', '=', identifierHash)]),
          ]),
        )
        .orderBy('attempted_at', 'desc')
        .limit(limit)
        .execute(),
    auditOf: (userId: string, limit: number, transaction?: Executor) =>
      on(transaction)
        .selectFrom('audit_logs')
        .selectAll()
        .where((builder) =>
          builder.or([builder('subject_user_id', '=', userId), builder('actor_id', '=', userId)]),
        )
        .orderBy('id', 'desc')
        .limit(limit)
        .execute(),
    forgetLoginAttempts: (userId: string, identifierHash: string | null, transaction?: Executor) =>
      on(transaction)
        .deleteFrom('login_attempts')
        .where((builder) =>
          builder.or([
            builder('user_id', '=', userId),
            ...(identifierHash === null ? [] : [builder('identifier_hash', '=', identifierHash)]),
          ]),
        )
        .execute(),
    forgetCodes: (phone: string, transaction?: Executor) =>
      on(transaction).deleteFrom('phone_verifications').where('phone', '=', index.phone(phone)).execute(),
    forgetPasswordResets: (userId: string, transaction?: Executor) =>
      on(transaction).deleteFrom('password_resets').where('user_id', '=', userId).execute(),

    // ---- sessions and refresh tokens
    insertSession: (
      session: {
        userId: string;
        kind: 'user' | 'guest';
        client: 'web' | 'mobile';
        ip: string | null;
        userAgent: string | null;
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
          two_factor_verified: session.twoFactorVerified,
          expires_at: session.expiresAt,
        })
        .returningAll()
        .executeTakeFirstOrThrow(),
    findSession: (id: string, transaction?: Executor) =>
      on(transaction).selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst(),
    updateSession: (
      id: string,
      changes: Partial<Pick<SessionRow, 'last_activity_at' | 'step_up_at' | 'two_factor_verified' | 'kind'>>,
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

export type IdentityRepository = ReturnType<typeof createIdentityRepository>;
