import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { IdentityTables, PartnerApiKeysTable } from './tables.js';

/** The SQL of partner API keys (partner-keys.ts holds the rules). */
export type PartnerKeyRow = Selectable<PartnerApiKeysTable>;
type Executor = Kysely<IdentityTables> | Transaction<IdentityTables>;

export interface NewPartnerKey {
  keyId: string;
  label: string;
  restaurantId: string | null;
  scopes: string[];
  keySha256: Buffer;
  signingSecretCiphertext: Buffer;
  createdBy: string | null;
  createdAt: Date;
  expiresAt: Date;
  rotatedFrom: string | null;
  issueIdempotencyKey?: string | null;
}

/** A page of keys is bounded: an admin lists at most this many at once. */
export const PARTNER_KEYS_PAGE_MAX = 200;

export function createPartnerKeysRepository(db: Kysely<IdentityTables>) {
  const on = (transaction?: Executor) => transaction ?? db;
  return {
    transaction: <T>(work: (transaction: Transaction<IdentityTables>) => Promise<T>) =>
      db.transaction().execute(work),

    find: (keyId: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('partner_api_keys')
        .selectAll()
        .where('key_id', '=', keyId)
        .executeTakeFirst(),

    /** Locks the row for a rotation or a revocation (two admins at once change it once). */
    findForUpdate: (keyId: string, transaction: Executor) =>
      on(transaction)
        .selectFrom('partner_api_keys')
        .selectAll()
        .where('key_id', '=', keyId)
        .forUpdate()
        .executeTakeFirst(),

    insert: (row: NewPartnerKey, transaction?: Executor) =>
      on(transaction)
        .insertInto('partner_api_keys')
        .values({
          key_id: row.keyId,
          label: row.label,
          restaurant_id: row.restaurantId,
          scopes: row.scopes,
          key_sha256: row.keySha256,
          signing_secret_ciphertext: row.signingSecretCiphertext,
          created_by: row.createdBy,
          created_at: row.createdAt,
          expires_at: row.expiresAt,
          rotated_from: row.rotatedFrom,
          issue_idempotency_key: row.issueIdempotencyKey ?? null,
        })
        .execute(),

    /** Serialises two concurrent issues with one Idempotency-Key (until the transaction ends). */
    lockIssueKey: async (idempotencyKey: string, transaction: Transaction<IdentityTables>) =>
      void (await sql`SELECT pg_advisory_xact_lock(hashtext(${`partner-key-issue:${idempotencyKey}`}))`.execute(
        transaction,
      )),

    findByIssueKey: (idempotencyKey: string, transaction?: Executor) =>
      on(transaction)
        .selectFrom('partner_api_keys')
        .select('key_id')
        .where('issue_idempotency_key', '=', idempotencyKey)
        .executeTakeFirst(),

    markRotated: (keyId: string, change: { to: string; at: Date; expiresAt: Date }, transaction: Executor) =>
      on(transaction)
        .updateTable('partner_api_keys')
        .set({ rotated_to: change.to, rotated_at: change.at, expires_at: change.expiresAt })
        .where('key_id', '=', keyId)
        .execute(),

    revoke: (keyId: string, change: { at: Date; by: string | null }, transaction: Executor) =>
      on(transaction)
        .updateTable('partner_api_keys')
        .set({ revoked_at: change.at, revoked_by: change.by })
        .where('key_id', '=', keyId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst(),

    /** Records use at most once a minute per key: no write on every partner request. */
    touch: (keyId: string, at: Date) =>
      db
        .updateTable('partner_api_keys')
        .set({ last_used_at: at })
        .where('key_id', '=', keyId)
        .where((eb) =>
          eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', new Date(at.getTime() - 60_000))]),
        )
        .execute(),

    list: (filter: { restaurantId?: string; expiringBefore?: Date; limit: number }) =>
      db
        .selectFrom('partner_api_keys')
        .selectAll()
        .$if(filter.restaurantId !== undefined, (query) =>
          query.where('restaurant_id', '=', filter.restaurantId!),
        )
        .$if(filter.expiringBefore !== undefined, (query) =>
          query
            .where('expires_at', '<', filter.expiringBefore!)
            .where('revoked_at', 'is', null)
            .where('rotated_to', 'is', null),
        )
        .orderBy('created_at', 'desc')
        .orderBy('key_id')
        .limit(Math.min(filter.limit, PARTNER_KEYS_PAGE_MAX))
        .execute(),

    /**
     * Claims the live, unrotated keys that expire before `before` and were not reminded yet
     * (one reminder per key, whichever instance runs the sweep first).
     */
    claimExpiryReminders: (before: Date, at: Date, limit: number) =>
      db
        .updateTable('partner_api_keys')
        .set({ expiry_reminded_at: at })
        .where(
          'key_id',
          'in',
          db
            .selectFrom('partner_api_keys')
            .select('key_id')
            .where('expires_at', '<', before)
            .where('expires_at', '>', at)
            .where('revoked_at', 'is', null)
            .where('rotated_to', 'is', null)
            .where('expiry_reminded_at', 'is', null)
            .limit(limit)
            .forUpdate()
            .modifyEnd(sql`SKIP LOCKED`),
        )
        .returning(['key_id', 'label', 'restaurant_id', 'expires_at'])
        .execute(),
  };
}

export type PartnerKeysRepository = ReturnType<typeof createPartnerKeysRepository>;
