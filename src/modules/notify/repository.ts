/**
 * The notify context's SQL: intents (the in-app centre), deliveries (one row per intent and
 * channel, claimed before the send: the key that makes a send happen once), devices and dead
 * letters. Intent parameters are encrypted with the field crypto; nothing here logs.
 */
import { sql, type Selectable } from 'kysely';
import type { FieldCipher } from '../../platform/field-crypto.js';
import type { IntentDraft, Priority } from './intents.js';
import type { NotificationIntentsTable, NotifyDb, ReceiptStatus } from './tables.js';

export const PARAMS_PURPOSE = 'notification_intents.params';
/** A send claimed this long ago and never finished is taken as lost (the worker died mid-send). */
export const DELIVERY_LEASE_MS = 2 * 60_000;
export const MAX_DEVICES_PER_USER = 10;
export const PAGE_MAX = 50;

export type IntentRow = Selectable<NotificationIntentsTable> & {
  paramsClear: Record<string, string | number>;
};
export type DeliveryChannel = 'push' | 'sms' | 'email';

/** What claiming a send answered: go ahead, already done, someone else is on it, or over the cap. */
export type Claim = 'claimed' | 'done' | 'busy' | 'capped';

/** External sends a recipient may receive in the rolling hour for a priority (critical: no cap). */
export function hourlyAllowance(priority: Priority, cap: number): number {
  switch (priority) {
    case 'critical':
      return Number.POSITIVE_INFINITY;
    case 'high':
      return cap;
    case 'normal':
    case 'low':
      // Lower priorities stop at half, so a flood of them leaves room for order messages.
      return Math.floor(cap / 2);
    default: {
      const unknown: never = priority;
      throw new RangeError(`unknown priority ${String(unknown)}`);
    }
  }
}

export function createNotifyRepository(db: NotifyDb, cipher: FieldCipher) {
  const decode = (row: Selectable<NotificationIntentsTable>): IntentRow => ({
    ...row,
    paramsClear: JSON.parse(cipher.decrypt(PARAMS_PURPOSE, row.params)) as Record<string, string | number>,
  });

  return {
    /** Inserts the drafts not yet there; answers the ids this call inserted (a replay inserts none). */
    async insertIntents(drafts: readonly IntentDraft[], at: Date): Promise<Set<string>> {
      if (drafts.length === 0) return new Set();
      const rows = await db
        .insertInto('notification_intents')
        .values(
          drafts.map((draft) => ({
            id: draft.id,
            recipient_id: draft.recipientId,
            kind: draft.kind,
            category: draft.category,
            priority: draft.priority,
            params: cipher.encrypt(PARAMS_PURPOSE, JSON.stringify(draft.params)),
            order_id: draft.orderId,
            source_event_id: draft.sourceEventId,
            requires_ack: draft.requiresAck,
            receipt: draft.receipt,
            // Milliseconds, as the cursor carries them (now() has microseconds: a page would skip rows).
            created_at: at,
          })),
        )
        .onConflict((conflict) => conflict.column('id').doNothing())
        .returning('id')
        .execute();
      return new Set(rows.map((row) => row.id));
    },

    async intent(id: string): Promise<IntentRow | undefined> {
      const row = await db
        .selectFrom('notification_intents')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirst();
      return row === undefined ? undefined : decode(row);
    },

    async deleteIntent(id: string): Promise<void> {
      await db.deleteFrom('notification_intents').where('id', '=', id).execute();
    },

    async deleteIntents(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.deleteFrom('notification_intents').where('id', 'in', ids).execute();
    },

    /** Sets the status of pending intents (a dispatch): those already further are left alone. */
    async setIntentsStatus(ids: readonly string[], status: IntentRow['status']): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('notification_intents')
        .set({ status })
        .where('id', 'in', ids)
        .where('status', '=', 'pending')
        .execute();
    },

    async setIntentStatus(id: string, status: IntentRow['status']): Promise<void> {
      await db.updateTable('notification_intents').set({ status }).where('id', '=', id).execute();
    },

    /** The recipient's centre, newest first, after the cursor's (created_at, id). */
    async page(
      recipientId: string,
      after: { createdAt: Date; id: string } | undefined,
      limit: number,
    ): Promise<IntentRow[]> {
      const rows = await db
        .selectFrom('notification_intents')
        .selectAll()
        .where('recipient_id', '=', recipientId)
        .$if(after !== undefined, (query) =>
          query.where(({ eb, refTuple, tuple }) =>
            eb(refTuple('created_at', 'id'), '<', tuple(after!.createdAt, after!.id)),
          ),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(limit, PAGE_MAX))
        .execute();
      return rows.map(decode);
    },

    async unreadCount(recipientId: string): Promise<number> {
      const row = await db
        .selectFrom('notification_intents')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .where('recipient_id', '=', recipientId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.count);
    },

    /** Marks one of the recipient's notifications read (and acknowledged with `ack`); false if not theirs. */
    async markRead(recipientId: string, id: string, at: Date, ack: boolean): Promise<IntentRow | undefined> {
      const row = await db
        .updateTable('notification_intents')
        .set((eb) => ({
          read_at: eb.fn.coalesce('read_at', eb.val(at)),
          ...(ack ? { acknowledged_at: eb.fn.coalesce('acknowledged_at', eb.val(at)) } : {}),
        }))
        .where('id', '=', id)
        .where('recipient_id', '=', recipientId)
        .returningAll()
        .executeTakeFirst();
      return row === undefined ? undefined : decode(row);
    },

    async markAllRead(recipientId: string, at: Date): Promise<number> {
      const result = await db
        .updateTable('notification_intents')
        .set({ read_at: at })
        .where('recipient_id', '=', recipientId)
        .where('read_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * Claims the send of an intent on a channel, or says why not. The claim and the hourly count
     * run under a per-recipient advisory lock, so concurrent workers cannot both pass the cap: one
     * statement, `notify_claim_delivery` (migration 2026-12-06T0845), where it took six round trips.
     */
    async claimDelivery(input: {
      intentId: string;
      recipientId: string;
      channel: DeliveryChannel;
      priority: Priority;
      allowance: number;
      now: Date;
    }): Promise<Claim> {
      const allowance = Number.isFinite(input.allowance) ? Math.max(0, Math.floor(input.allowance)) : null;
      const { rows } = await sql<{ outcome: Claim }>`
        SELECT notify_claim_delivery(
          ${`${input.intentId}:${input.channel}`}, ${input.intentId}::uuid, ${input.recipientId}::uuid,
          ${input.channel}, ${input.priority}, ${allowance}::integer, ${input.now}::timestamptz,
          ${DELIVERY_LEASE_MS}::integer
        ) AS outcome`.execute(db);
      return rows[0]!.outcome;
    },

    async finishDelivery(
      intentId: string,
      channel: DeliveryChannel,
      outcome: {
        status: 'sent' | 'failed';
        transport?: string;
        providerId?: string;
        reason?: string;
        costXaf?: number;
      },
      now: Date,
    ): Promise<void> {
      await db
        .updateTable('notification_deliveries')
        .set({
          status: outcome.status,
          transport: outcome.transport ?? null,
          provider_id: outcome.providerId ?? null,
          cost_xaf: outcome.costXaf ?? null,
          reason: outcome.reason?.slice(0, 200) ?? null,
          updated_at: now,
        })
        .where('id', '=', `${intentId}:${channel}`)
        .execute();
    },

    /**
     * A send that went out: the delivery marked sent and its intent delivered, in one statement
     * (a send cost two updates).
     */
    async finishSent(
      intentId: string,
      channel: DeliveryChannel,
      outcome: { transport?: string; providerId?: string; costXaf?: number },
      now: Date,
    ): Promise<void> {
      await db
        .with('delivery', (query) =>
          query
            .updateTable('notification_deliveries')
            .set({
              status: 'sent',
              transport: outcome.transport ?? null,
              provider_id: outcome.providerId ?? null,
              cost_xaf: outcome.costXaf ?? null,
              reason: null,
              updated_at: now,
            })
            .where('id', '=', `${intentId}:${channel}`)
            .returning('intent_id'),
        )
        .updateTable('notification_intents')
        .set({ status: 'delivered' })
        .where('id', '=', intentId)
        .execute();
    },

    /**
     * A provider's receipt for the message it knows as `providerId` (receipts-routes.ts). Receipts
     * may arrive out of order and more than once: a status never moves back nor repeats (queued <
     * sent < delivered | failed). Answers `applied` (the receipt changed), `unchanged` (a repeat,
     * or an older status) or `unknown` (no delivery has that id).
     */
    async markDelivery(
      providerId: string,
      status: ReceiptStatus,
      reason?: string,
    ): Promise<'applied' | 'unchanged' | 'unknown'> {
      const earlier = RECEIPT_FROM[status];
      const updated = await db
        .updateTable('notification_deliveries')
        .set({
          provider_status: status,
          provider_reason: reason?.slice(0, 200) ?? null,
          provider_updated_at: new Date(),
        })
        .where('provider_id', '=', providerId)
        .where((eb) =>
          earlier.length === 0
            ? eb('provider_status', 'is', null)
            : eb.or([eb('provider_status', 'is', null), eb('provider_status', 'in', earlier)]),
        )
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) > 0) return 'applied';
      const known = await db
        .selectFrom('notification_deliveries')
        .select('id')
        .where('provider_id', '=', providerId)
        .executeTakeFirst();
      return known === undefined ? 'unknown' : 'unchanged';
    },

    /** Sends finished in [from, to), counted by channel, send status and provider receipt, with known costs. */
    async deliveryCounts(from: Date, to: Date) {
      const rows = await db
        .selectFrom('notification_deliveries')
        .select((eb) => [
          'channel',
          'status',
          'provider_status',
          eb.fn.countAll<string>().as('count'),
          eb.fn.sum<string | null>('cost_xaf').as('known_cost_xaf'),
          eb.fn.count<string>('cost_xaf').as('with_cost'),
        ])
        .where('updated_at', '>=', from)
        .where('updated_at', '<', to)
        .groupBy(['channel', 'status', 'provider_status'])
        .execute();
      return rows.map((row) => ({
        channel: row.channel,
        status: row.status,
        providerStatus: row.provider_status,
        count: Number(row.count),
        knownCostXaf: Number(row.known_cost_xaf ?? 0),
        withCost: Number(row.with_cost),
      }));
    },

    async deliveries(intentId: string) {
      return db
        .selectFrom('notification_deliveries')
        .select(['channel', 'status', 'transport', 'provider_id', 'reason'])
        .where('intent_id', '=', intentId)
        .execute();
    },

    // ---- devices
    /** Registers a token for the user (idempotent per token: a token moves to whoever signs in with it). */
    async registerDevice(
      userId: string,
      token: string,
      platform: 'android' | 'ios' | 'web',
      now: Date,
    ): Promise<{ id: string; platform: string; createdAt: Date; created: boolean } | 'too_many'> {
      return db.transaction().execute(async (transaction) => {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`notify-devices:${userId}`}, 0))`.execute(
          transaction,
        );
        const existing = await transaction
          .selectFrom('notification_devices')
          .select(['id', 'user_id'])
          .where('token', '=', token)
          .executeTakeFirst();
        if (existing === undefined || existing.user_id !== userId) {
          const count = await transaction
            .selectFrom('notification_devices')
            .select((eb) => eb.fn.countAll<string>().as('count'))
            .where('user_id', '=', userId)
            .executeTakeFirstOrThrow();
          if (Number(count.count) >= MAX_DEVICES_PER_USER) return 'too_many';
        }
        const row = await transaction
          .insertInto('notification_devices')
          .values({ user_id: userId, token, platform, created_at: now, last_seen_at: now })
          .onConflict((conflict) =>
            conflict.column('token').doUpdateSet({ user_id: userId, platform, last_seen_at: now }),
          )
          .returning(['id', 'platform', 'created_at'])
          .executeTakeFirstOrThrow();
        return {
          id: row.id,
          platform: row.platform,
          createdAt: row.created_at,
          created: existing === undefined || existing.user_id !== userId,
        };
      });
    },

    async devices(userId: string) {
      return db
        .selectFrom('notification_devices')
        .select(['id', 'token', 'platform', 'created_at', 'last_seen_at'])
        .where('user_id', '=', userId)
        .orderBy('last_seen_at', 'desc')
        .limit(MAX_DEVICES_PER_USER)
        .execute();
    },

    async removeDevice(userId: string, id: string): Promise<boolean> {
      const result = await db
        .deleteFrom('notification_devices')
        .where('id', '=', id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    /** FCM said the token is dead: the device is forgotten. */
    async forgetToken(token: string): Promise<void> {
      await db.deleteFrom('notification_devices').where('token', '=', token).execute();
    },

    // ---- dead letters
    async deadLetter(entry: {
      intentId: string;
      channel: string;
      queue: string;
      reason: string;
      attempts: number;
    }): Promise<void> {
      await db
        .insertInto('notification_dead_letters')
        .values({
          intent_id: entry.intentId,
          channel: entry.channel,
          queue: entry.queue,
          reason: entry.reason.slice(0, 200),
          attempts: entry.attempts,
          // Milliseconds, as the cursor carries them.
          created_at: new Date(),
        })
        .onConflict((conflict) => conflict.columns(['intent_id', 'channel']).doNothing())
        .execute();
    },

    async deadLetters(after: { createdAt: Date; id: string } | undefined, limit: number) {
      return db
        .selectFrom('notification_dead_letters')
        .selectAll()
        .$if(after !== undefined, (query) =>
          query.where(({ eb, refTuple, tuple }) =>
            eb(refTuple('created_at', 'id'), '<', tuple(after!.createdAt, after!.id)),
          ),
        )
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc')
        .limit(Math.min(limit, PAGE_MAX))
        .execute();
    },

    /** Retention (issue #23): dead letters older than `before`, at most `limit` of them. */
    async purgeDeadLetters(before: Date, limit: number): Promise<number> {
      const result = await db
        .deleteFrom('notification_dead_letters')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('notification_dead_letters')
            .select('id')
            .where('created_at', '<', before)
            .orderBy('created_at')
            .limit(limit),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    // ---- personal data
    async exportOf(userId: string, limit: number) {
      const intents = await db
        .selectFrom('notification_intents')
        .select(['id', 'kind', 'category', 'order_id', 'created_at', 'read_at', 'acknowledged_at'])
        .where('recipient_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
      const devices = await db
        .selectFrom('notification_devices')
        .select(['id', 'platform', 'created_at', 'last_seen_at'])
        .where('user_id', '=', userId)
        .execute();
      return { intents, devices };
    },

    /** Deletes the person's notifications, their sends (cascade) and devices. Idempotent. */
    async erase(userId: string): Promise<{ intents: number; devices: number }> {
      return db.transaction().execute(async (transaction) => {
        const intents = await transaction
          .deleteFrom('notification_intents')
          .where('recipient_id', '=', userId)
          .executeTakeFirst();
        await transaction.deleteFrom('notification_deliveries').where('recipient_id', '=', userId).execute();
        const devices = await transaction
          .deleteFrom('notification_devices')
          .where('user_id', '=', userId)
          .executeTakeFirst();
        return { intents: Number(intents.numDeletedRows), devices: Number(devices.numDeletedRows) };
      });
    },
  };
}

/** The statuses each receipt may replace (besides none yet): queued, then sent, then delivered or failed (both final). */
const RECEIPT_FROM: Record<ReceiptStatus, ReceiptStatus[]> = {
  queued: [],
  sent: ['queued'],
  delivered: ['queued', 'sent'],
  failed: ['queued', 'sent'],
};

export type NotifyRepository = ReturnType<typeof createNotifyRepository>;
