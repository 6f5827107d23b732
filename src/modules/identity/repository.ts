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
import { smsPreferencesAfter } from './views.js';
import { createCredentialQueries } from './credential-queries.js';
import { userIndexes, type Executor } from './executor.js';
import { createKeyQueries } from './key-queries.js';
import { createSessionQueries } from './session-queries.js';

/** All SQL of the identity context. Every method takes an optional transaction. */
export { userIndexes, type Executor };
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

/** Who a newsletter reaches (the marketing consent on one of `channels` is always required). */
export interface MarketingAudienceQuery {
  roles: readonly string[];
  cities: readonly string[];
  language?: 'fr' | 'en' | undefined;
  channels: readonly ('push' | 'sms' | 'email')[];
}
const MARKETING_OFF = JSON.stringify({ push: false, sms: false, email: false });

/** A new account's preferences when its number sent `STOP` before it had one. */
const SMS_STOPPED_PREFERENCES = JSON.stringify(smsPreferencesAfter(undefined, 'stop').after);

/** What the users table's personal fields are encrypted and indexed as (the AAD's purpose). */
export const USER_FIELDS = { phone: 'users.phone', email: 'users.email', name: 'users.name' } as const;
/** The encrypted columns of user_addresses (label and city stay in clear). */
export const ADDRESS_FIELDS = ['line1', 'line2', 'district', 'landmark', 'instructions'] as const;
export const ADDRESS_COORDINATES = ['latitude', 'longitude'] as const;
/** Tombstones of removed addresses outlive the 7-day sync window by a day (docs/identity.md "Delta sync"). */
export const ADDRESS_TOMBSTONE_SECONDS = 8 * 24 * 3_600;

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
export function createIdentityRepository(db: IdentityDb, fields: FieldCipher) {
  const on = (transaction?: Executor) => transaction ?? db;
  const marketingAudienceQuery = (query: MarketingAudienceQuery) =>
    db
      .selectFrom('users')
      .where('status', '=', 'active')
      .where((eb) =>
        eb.or(
          query.channels.map((channel) =>
            eb(sql<string>`notification_preferences -> 'promotions' ->> ${channel}`, '=', 'true'),
          ),
        ),
      )
      .$if(query.roles.length > 0, (builder) =>
        builder.where(sql<boolean>`roles && ${sql.val(query.roles)}::text[]`),
      )
      .$if(query.language !== undefined, (builder) =>
        builder.where(
          query.language === 'en'
            ? sql<boolean>`lower(locale) LIKE 'en%'`
            : sql<boolean>`lower(locale) NOT LIKE 'en%'`,
        ),
      )
      .$if(query.cities.length > 0, (builder) =>
        builder.where(({ exists, selectFrom }) =>
          exists(
            selectFrom('user_addresses')
              .select(sql`1`.as('one'))
              .whereRef('user_addresses.user_id', '=', 'users.id')
              .where(
                sql<boolean>`lower(user_addresses.city) = ANY(${sql.val(query.cities.map((city) => city.toLowerCase()))}::text[])`,
              ),
          ),
        ),
      );
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
    /**
     * A new account. A `STOP` its number sent before it had one (sms_opt_outs) is applied and
     * deleted by the same statement: the account's SMS switches start off, or, if the insert
     * fails (the number is taken), the opt-out stays for the next attempt.
     */
    insertUser: async (user: NewUser, transaction?: Executor) =>
      decoded(
        await on(transaction)
          .with('opt_out', (query) =>
            query
              .deleteFrom('sms_opt_outs')
              .where('phone_bidx', '=', index.phone(user.phone))
              .returning('phone_bidx'),
          )
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
            notification_preferences: sql<string>`coalesce((SELECT ${SMS_STOPPED_PREFERENCES}::jsonb FROM opt_out), '{}'::jsonb)`,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      ),
    /**
     * An SMS `STOP` from a number without an account: remembered by its blind index until an
     * account is created for it (a repeat changes nothing). Answers whether it was new.
     */
    rememberSmsOptOut: async (phone: string): Promise<boolean> =>
      (
        await db
          .insertInto('sms_opt_outs')
          .values({ phone_bidx: index.phone(phone) })
          .onConflict((conflict) => conflict.column('phone_bidx').doNothing())
          .executeTakeFirst()
      ).numInsertedOrUpdatedRows === 1n,
    /** An SMS `START` from a number without an account: the earlier `STOP` is forgotten. */
    forgetSmsOptOut: async (phone: string): Promise<boolean> =>
      (await db.deleteFrom('sms_opt_outs').where('phone_bidx', '=', index.phone(phone)).executeTakeFirst())
        .numDeletedRows === 1n,
    /** Whether the number's `STOP` waits for an account (tests and support). */
    hasSmsOptOut: async (phone: string): Promise<boolean> =>
      (await db
        .selectFrom('sms_opt_outs')
        .select('phone_bidx')
        .where('phone_bidx', '=', index.phone(phone))
        .executeTakeFirst()) !== undefined,
    /**
     * A newsletter's audience (docs/admin.md "Newsletters"): active accounts holding one of the
     * roles (none: any), with an address in one of the cities (none: anywhere; compared in lower
     * case), of the language (none: any; French unless the locale is English) and, always, with
     * marketing consent on at least one of the channels (`promotions` in their preferences, off by
     * default). A page of ids after `afterId`, by id; or the count.
     */
    marketingAudience: async (query: MarketingAudienceQuery & { afterId?: string; limit: number }) =>
      marketingAudienceQuery(query)
        .select(['id', 'locale'])
        .$if(query.afterId !== undefined, (builder) => builder.where('id', '>', query.afterId!))
        .orderBy('id')
        .limit(query.limit)
        .execute(),
    countMarketingAudience: async (query: MarketingAudienceQuery) =>
      Number(
        (
          await marketingAudienceQuery(query)
            .select(sql<string>`count(*)`.as('count'))
            .executeTakeFirstOrThrow()
        ).count,
      ),
    /**
     * One-click unsubscribe: marketing off on every channel. Answers whether it changed anything
     * (a repeat, or an account that no longer exists, changes nothing).
     */
    unsubscribeMarketing: async (userId: string): Promise<boolean> =>
      (
        await db
          .updateTable('users')
          .set({
            notification_preferences: sql<string>`jsonb_set(coalesce(notification_preferences, '{}'::jsonb), '{promotions}', ${MARKETING_OFF}::jsonb)`,
          })
          .where('id', '=', userId)
          .where(
            sql<boolean>`coalesce(notification_preferences -> 'promotions', 'null'::jsonb) IS DISTINCT FROM ${MARKETING_OFF}::jsonb`,
          )
          .executeTakeFirst()
      ).numUpdatedRows === 1n,
    /** The profile's language alone (problems answered to a client that named none). */
    localeOf: async (id: string): Promise<string | undefined> =>
      (await db.selectFrom('users').select('locale').where('id', '=', id).executeTakeFirst())?.locale,
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
    // Only the default one changes (and moves updated_at, so delta sync sends it).
    clearDefaultAddress: (userId: string, transaction?: Executor) =>
      on(transaction)
        .updateTable('user_addresses')
        .set({ is_default: false, updated_at: sql`now()` } as never)
        .where('user_id', '=', userId)
        .where('is_default', '=', true)
        .execute(),
    /** Deletes and leaves a tombstone for delta sync in one statement; tombstones older than the sync window go. */
    deleteAddress: async (userId: string, id: string, transaction?: Executor) => {
      const { rows } = await sql<{ address_id: string }>`
        WITH removed AS (
          DELETE FROM user_addresses WHERE user_id = ${userId} AND id = ${id} RETURNING id, user_id
        ), pruned AS (
          DELETE FROM user_address_removals
          WHERE user_id = ${userId} AND removed_at < now() - make_interval(secs => ${ADDRESS_TOMBSTONE_SECONDS})
        )
        INSERT INTO user_address_removals (address_id, user_id)
        SELECT id, user_id FROM removed
        ON CONFLICT (address_id) DO UPDATE SET removed_at = now()
        RETURNING address_id`.execute(on(transaction));
      return rows.length > 0;
    },
    deleteAllAddresses: async (userId: string, transaction?: Executor) => {
      await on(transaction).deleteFrom('user_address_removals').where('user_id', '=', userId).execute();
      return on(transaction).deleteFrom('user_addresses').where('user_id', '=', userId).execute();
    },
    /** Delta sync (routes/sync.ts): the addresses changed and the ids removed after `since`. */
    addressChangesSince: async (userId: string, since: Date, limit: number, transaction?: Executor) => {
      const [changed, removed] = await Promise.all([
        on(transaction)
          .selectFrom('user_addresses')
          .selectAll()
          .where('user_id', '=', userId)
          .where('updated_at', '>', since)
          .orderBy('created_at', 'asc')
          .limit(limit)
          .execute(),
        on(transaction)
          .selectFrom('user_address_removals')
          .select('address_id')
          .where('user_id', '=', userId)
          .where('removed_at', '>', since)
          .orderBy('address_id')
          .limit(limit)
          .execute(),
      ]);
      return {
        changed: changed.map((row) => decodeAddress(fields, row)),
        removed: removed.map((row) => row.address_id),
      };
    },
    databaseClock: async (transaction?: Executor): Promise<Date> => {
      const { rows } = await sql<{ now: Date }>`SELECT clock_timestamp() AS now`.execute(on(transaction));
      return rows[0]!.now;
    },

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

    ...createSessionQueries(db),
    ...createCredentialQueries(db, fields),
    ...createKeyQueries(db),
  };
}

export type IdentityRepository = ReturnType<typeof createIdentityRepository>;
