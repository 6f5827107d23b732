/**
 * The one SMS of a USSD order (docs/ussd.md "The order's SMS"): its number, restaurant, total and
 * delivery PIN, sent to the number that placed it. Durable: a row keyed by the order's id is
 * written before the order is placed (`intend`), a job sends it with retries and backoff after
 * the placement (`enqueue`, the platform's queue: BullMQ with Redis, in-process without), and a
 * sweep sends the rows a crash left unsent. A sender claims the row for a lease before the
 * provider is called, so several instances (a job and sweeps) send it once; the claim is given
 * back on a transient failure. The row holds neither the phone number nor the PIN: both are read
 * when sending (identity's user, the order), and neither is ever logged.
 *
 * At most one SMS per order in normal operation. A crash after the provider accepted the message
 * and before the row is marked sent lets the next sender send it again when the lease ends: the
 * customer then gets the same SMS twice (said in docs/ussd.md).
 */
import { sql } from 'kysely';
import type { Logger } from 'pino';
import { money, orderNumber, say, type Language } from './texts.js';
import type { UssdDb } from './tables.js';

export const ORDER_SMS_QUEUE = 'ussd-order-sms';
/** A sender's claim on a row: longer than a provider call may take (the adapters time out sooner). */
export const ORDER_SMS_LEASE_MS = 60_000;
/** Rows the sweep takes: older than this (the job had its chance to send them). */
export const ORDER_SMS_SWEEP_AFTER_MS = 60_000;
/**
 * A row whose order does not exist this long after it was written is given up (the placement
 * was refused or never happened); a later placement of that order writes it again.
 */
export const ORDER_SMS_VOID_AFTER_MS = 30 * 60_000;
/** Sends tried in all (the job's and the sweeps') before the row is marked failed. */
export const ORDER_SMS_MAX_ATTEMPTS = 30;
const SWEEP_BATCH = 100;
/**
 * Order statuses for which the SMS is no longer worth sending: the payment failed, the order was
 * refused or cancelled (notify tells them), or it was already handed over (the PIN is spent).
 */
const TOO_LATE = new Set([
  'PAYMENT_FAILED',
  'REJECTED',
  'CANCELLED',
  'DELIVERED',
  'COMPLETED',
  'DISPUTED',
  'RESOLVED',
]);

export interface OrderSmsOrder {
  state: {
    status: string;
    order?: {
      orderId: string;
      restaurantName: string;
      deliveryPin: string;
      pricing: { totalMinor: number };
      customer: { id: string };
    } | null;
  };
}

export interface OrderSmsDependencies {
  db: UssdDb;
  orders: () => { find(orderId: string): Promise<OrderSmsOrder | undefined> };
  users: {
    findUserById(id: string): Promise<{ phone: string | null; status: string } | undefined>;
  };
  /** notifications' `deliver`: a refusal is an answer (`permanent` or not), a throw is transient. */
  sms: {
    deliver(message: {
      channel: 'sms';
      to: string;
      body: string;
      metadata?: Record<string, unknown>;
    }): Promise<{ status: 'sent' | 'failed'; reason?: string; permanent?: boolean }>;
  };
  queue?: {
    enqueue(queue: string, data: { orderId: string }, options: { jobId: string }): Promise<void>;
  };
  logger: Pick<Logger, 'warn' | 'error'>;
  now?: () => Date;
}

/** What one attempt did: sent, given up (void or failed), nothing to do, or not yet possible. */
export type OrderSmsOutcome = 'sent' | 'void' | 'failed' | 'done' | 'claimed' | 'waiting';

export class OrderSmsNotSent extends Error {
  constructor(readonly reason: string) {
    super(`ussd order SMS not sent yet (${reason})`);
    this.name = 'OrderSmsNotSent';
  }
}

export function createOrderSms(deps: OrderSmsDependencies) {
  const { db, logger } = deps;
  const now = deps.now ?? (() => new Date());

  async function settle(orderId: string, status: 'sent' | 'void' | 'failed', lastError: string | null) {
    await db
      .updateTable('ussd_order_sms')
      .set({
        status,
        claimed_until: null,
        last_error: lastError,
        updated_at: sql`now()`,
        ...(status === 'sent' ? { sent_at: sql`now()` } : {}),
      })
      .where('order_id', '=', orderId)
      .where('status', '=', 'pending')
      .execute();
  }

  /** Gives the claim back (a transient failure): the next job try or sweep takes it. */
  async function release(orderId: string, lastError: string) {
    await db
      .updateTable('ussd_order_sms')
      .set({ claimed_until: null, last_error: lastError.slice(0, 200), updated_at: sql`now()` })
      .where('order_id', '=', orderId)
      .where('status', '=', 'pending')
      .execute();
  }

  const orderSms = {
    /**
     * Before the order is placed: the SMS is owed once it exists. Idempotent; a row given up
     * (void) comes back to pending, one already sent stays sent.
     */
    async intend(orderId: string, userId: string, language: Language): Promise<void> {
      await db
        .insertInto('ussd_order_sms')
        .values({ order_id: orderId, user_id: userId, language })
        .onConflict((conflict) =>
          conflict
            .column('order_id')
            .doUpdateSet({ status: 'pending', created_at: sql`now()`, updated_at: sql`now()` })
            .where('ussd_order_sms.status', '=', 'void'),
        )
        .execute();
    },

    /** The placement was refused (no order): nothing is owed. A row sent or given up stays. */
    async forget(orderId: string): Promise<void> {
      await db
        .deleteFrom('ussd_order_sms')
        .where('order_id', '=', orderId)
        .where('status', '=', 'pending')
        .execute();
    },

    /** After the placement: the job that sends it. A lost enqueue is the sweep's. */
    async enqueue(orderId: string): Promise<void> {
      if (deps.queue === undefined) return;
      try {
        await deps.queue.enqueue(ORDER_SMS_QUEUE, { orderId }, { jobId: `ussd-sms-${orderId}` });
      } catch (error) {
        logger.warn({ err: error, orderId }, 'ussd order SMS job not queued; the sweep sends it');
      }
    },

    /**
     * One attempt: claims the row, reads the order and the number, sends, marks. Throws
     * `OrderSmsNotSent` (or the transport's error) when a later try may succeed.
     */
    async deliver(orderId: string): Promise<OrderSmsOutcome> {
      const claimed = await db
        .updateTable('ussd_order_sms')
        .set({
          claimed_until: sql`now() + ${`${ORDER_SMS_LEASE_MS} milliseconds`}::interval`,
          attempts: sql`attempts + 1`,
          updated_at: sql`now()`,
        })
        .where('order_id', '=', orderId)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]))
        .returning(['user_id', 'language', 'created_at', 'attempts'])
        .executeTakeFirst();
      if (claimed === undefined) {
        const row = await db
          .selectFrom('ussd_order_sms')
          .select('status')
          .where('order_id', '=', orderId)
          .executeTakeFirst();
        return row?.status === 'pending' ? 'claimed' : 'done';
      }
      const found = await deps.orders().find(orderId);
      const order = found?.state.order ?? undefined;
      if (found === undefined || order === undefined) {
        if (now().getTime() - claimed.created_at.getTime() > ORDER_SMS_VOID_AFTER_MS) {
          await settle(orderId, 'void', 'no_order');
          return 'void';
        }
        await release(orderId, 'no_order_yet');
        throw new OrderSmsNotSent('no_order_yet');
      }
      if (order.customer.id !== claimed.user_id || TOO_LATE.has(found.state.status)) {
        await settle(orderId, 'void', `status_${found.state.status}`.slice(0, 200));
        return 'void';
      }
      const user = await deps.users.findUserById(claimed.user_id);
      if (user === undefined || user.status === 'deleted' || user.phone === null) {
        await settle(orderId, 'void', 'no_phone');
        return 'void';
      }
      let result: Awaited<ReturnType<OrderSmsDependencies['sms']['deliver']>>;
      try {
        result = await deps.sms.deliver({
          channel: 'sms',
          to: user.phone,
          body: say(claimed.language, 'sms_placed', {
            number: orderNumber(order.orderId),
            restaurant: order.restaurantName,
            total: money(order.pricing.totalMinor),
            pin: order.deliveryPin,
          }),
          metadata: { kind: 'ussd.order_placed', orderId },
        });
      } catch (error) {
        // The error may quote the request: only its name is kept and logged (no number, no PIN).
        const name = error instanceof Error ? error.name : 'error';
        await (claimed.attempts >= ORDER_SMS_MAX_ATTEMPTS
          ? settle(orderId, 'failed', `transient:${name}`)
          : release(orderId, `transient:${name}`));
        logger.warn({ orderId, error: name, attempt: claimed.attempts }, 'ussd order SMS failed');
        throw new OrderSmsNotSent('transient');
      }
      if (result.status === 'sent') {
        await settle(orderId, 'sent', null);
        return 'sent';
      }
      const reason = (result.reason ?? 'refused').slice(0, 100);
      if (result.permanent === true || claimed.attempts >= ORDER_SMS_MAX_ATTEMPTS) {
        await settle(orderId, 'failed', reason);
        logger.error({ orderId, reason }, 'ussd order SMS refused by the provider; given up');
        return 'failed';
      }
      await release(orderId, reason);
      logger.warn({ orderId, reason, attempt: claimed.attempts }, 'ussd order SMS refused for now');
      throw new OrderSmsNotSent(reason);
    },

    /** The job's handler: one attempt; a transient failure throws so that the queue retries. */
    async job(data: { orderId: string }): Promise<void> {
      await orderSms.deliver(data.orderId);
    },

    /**
     * Rows left unsent (a crash between the placement and the job, a job that ran out of tries):
     * each tried once, under its claim; safe on every instance at once.
     */
    async sweep(at: Date = now()): Promise<{ sent: number; pending: number }> {
      const rows = await db
        .selectFrom('ussd_order_sms')
        .select('order_id')
        .where('status', '=', 'pending')
        .where('created_at', '<', new Date(at.getTime() - ORDER_SMS_SWEEP_AFTER_MS))
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', sql<Date>`now()`)]))
        .orderBy('created_at')
        .limit(SWEEP_BATCH)
        .execute();
      let sent = 0;
      let pending = 0;
      for (const row of rows) {
        try {
          if ((await orderSms.deliver(row.order_id)) === 'sent') sent += 1;
        } catch (error) {
          if (!(error instanceof OrderSmsNotSent))
            logger.warn({ orderId: row.order_id, error: (error as Error).name }, 'ussd order SMS sweep');
          pending += 1;
        }
      }
      return { sent, pending };
    },

    /**
     * Retention: settled rows (sent, void or failed) last changed before `before`, at most `limit`
     * of them. A pending row is never purged: the sweep still owes its SMS.
     */
    async purgeSettled(before: Date, limit: number): Promise<number> {
      const result = await db
        .deleteFrom('ussd_order_sms')
        .where(({ eb, selectFrom }) =>
          eb(
            'order_id',
            'in',
            selectFrom('ussd_order_sms')
              .select('order_id')
              .where('status', '!=', 'pending')
              .where('updated_at', '<', before)
              .limit(limit),
          ),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /** Erasure: the person's rows (order ids and languages only). */
    async erase(userId: string): Promise<number> {
      const result = await db.deleteFrom('ussd_order_sms').where('user_id', '=', userId).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
  return orderSms;
}

export type OrderSms = ReturnType<typeof createOrderSms>;
