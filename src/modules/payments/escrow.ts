/**
 * Escrow and release: an order's money sits in `escrow:order:<id>` from capture until the
 * delivery PIN. This reactor follows the orders' events in the global order (a checkpointed
 * subscription; effects are idempotent by transfer id, so a redelivery lands nothing twice):
 *   OrderDelivered        → the settlement chain (restaurant share at its commission tier or an
 *                           admin override, platform commission, driver fee + 100 % of the tip,
 *                           delivery margin, tax), the last leg closing the escrow at zero;
 *   OrderRejected/Cancelled → the refund to the customer's wallet at once; what the order's
 *                           policy keeps (a late-cancellation fee) goes to the restaurant;
 *   OrderDisputeResolved  → the refund: from the escrow if it still holds the money (delivery
 *                           failed), else from the restaurant's payable up to its share of this
 *                           order and the rest from the platform (promotions expense).
 */
import type { Logger } from 'pino';
import {
  commissionTier,
  customerWalletId,
  driverFeeMinor,
  orderEscrowId,
  orderSettlement,
  promotionsExpenseId,
  restaurantPayableId,
  settlementTransfers,
  type OrderSettlement,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { Db } from '../../db/database.js';
import type { EventStore, Position, RecordedEvent, Subscription } from '../../eventstore/index.js';
import { LedgerRefusal, linked, submitAll, type LedgerPort } from './ledger-port.js';

export const ESCROW_REACTOR = 'escrow';
const HANDLED = ['OrderDelivered', 'OrderRejected', 'OrderCancelled', 'OrderDisputeResolved'] as const;
const RESTART_DELAY_MS = 2_000;

interface OrderLike {
  orderId: string;
  restaurantId: string;
  customer: { id: string };
  pricing: { subtotalMinor: number; discountMinor: number; deliveryFeeMinor: number; taxMinor: number; tipMinor: number; totalMinor: number; distanceMetres: number };
}

export interface EscrowOrders {
  load(orderId: string): Promise<{ state: { status: string; order: OrderLike | null; driverId: string | null } }>;
}

export interface EscrowOptions {
  db: Db;
  eventStore: EventStore;
  ledger: LedgerPort;
  logger: Logger;
  orders: () => EscrowOrders | undefined;
  now?: () => Date;
}

export function createEscrow(options: EscrowOptions) {
  const { db, ledger, logger } = options;
  const now = options.now ?? (() => new Date());
  let subscription: Subscription | undefined;
  let stopped = true;
  let restartTimer: NodeJS.Timeout | undefined;
  const listeners: ((event: RecordedEvent) => void)[] = [];

  async function escrowAvailable(orderId: string): Promise<bigint> {
    const account = await ledger.account(orderEscrowId(orderId, 'XAF'));
    return account === null || account.closed === true ? 0n : account.availableMinor;
  }

  async function book(transfers: Transfer[]): Promise<void> {
    const refusal = await submitAll(ledger, linked(transfers));
    if (refusal !== null) throw new LedgerRefusal(refusal);
  }

  /** The commission rate in force for this order: stored with the settlement, so a redelivery reuses it. */
  async function rateFor(restaurantId: string): Promise<{ tier: string; rate: string }> {
    const [override, clock] = await Promise.all([
      db.selectFrom('restaurant_commission_overrides').select('rate').where('restaurant_id', '=', restaurantId).executeTakeFirst(),
      db.selectFrom('restaurant_commission_clock').selectAll().where('restaurant_id', '=', restaurantId).executeTakeFirst(),
    ]);
    const current = now();
    return commissionTier({
      restaurantActivatedAtMs: (clock?.first_settled_at ?? current).getTime(),
      nowMs: current.getTime(),
      completedOrders: clock?.completed_orders ?? 0,
      ...(override === undefined ? {} : { overrideRate: override.rate }),
    });
  }

  function settlementOf(order: OrderLike, rate: string): OrderSettlement {
    const pricing = order.pricing;
    return orderSettlement({
      subtotalMinor: BigInt(pricing.subtotalMinor),
      deliveryFeeChargedMinor: BigInt(pricing.deliveryFeeMinor),
      tipMinor: BigInt(pricing.tipMinor),
      taxMinor: BigInt(pricing.taxMinor),
      discountMinor: BigInt(pricing.discountMinor),
      commissionRate: rate,
      driverFeeMinor: driverFeeMinor(Math.ceil(pricing.distanceMetres)),
    });
  }

  async function release(orderId: string): Promise<void> {
    const { state } = await options.orders()!.load(orderId);
    const order = state.order;
    if (order === null || state.driverId === null) return;
    const stored = await db.selectFrom('order_settlements').selectAll().where('order_id', '=', orderId).executeTakeFirst();
    if (stored === undefined && (await escrowAvailable(orderId)) !== BigInt(order.pricing.totalMinor)) {
      logger.error({ orderId }, 'escrow does not hold the order total at delivery: nothing released');
      return;
    }
    const { tier, rate } = stored === undefined ? await rateFor(order.restaurantId) : { tier: stored.commission_tier, rate: stored.commission_rate };
    const settlement = settlementOf(order, rate);
    if (stored === undefined) await recordRelease(order, state.driverId, tier, rate, settlement);
    await book(settlementTransfers({ orderId, restaurantId: order.restaurantId, driverId: state.driverId, currency: 'XAF', settlement }));
  }

  async function recordRelease(order: OrderLike, driverId: string, tier: string, rate: string, settlement: OrderSettlement): Promise<void> {
    const leg = (kind: string) => settlement.legs.find((item) => item.kind === kind)?.amountMinor ?? 0n;
    await db.transaction().execute(async (trx) => {
      const inserted = await trx.insertInto('order_settlements').values({
        order_id: order.orderId,
        restaurant_id: order.restaurantId,
        driver_id: driverId,
        customer_id: order.customer.id,
        currency: 'XAF',
        outcome: 'released',
        escrow_minor: settlement.escrowMinor,
        subtotal_minor: BigInt(order.pricing.subtotalMinor),
        commission_rate: rate,
        commission_tier: tier,
        commission_minor: settlement.commissionMinor,
        restaurant_share_minor: leg('restaurant_share'),
        driver_fee_minor: leg('driver_fee'),
        tip_minor: leg('driver_tip'),
        delivery_margin_minor: leg('delivery_margin') - leg('delivery_subsidy'),
        tax_minor: leg('tax'),
        refund_minor: 0n,
        settled_at: now(),
      }).onConflict((conflict) => conflict.column('order_id').doNothing()).returning('order_id').executeTakeFirst();
      if (inserted === undefined) return;
      await trx.insertInto('restaurant_commission_clock').values({ restaurant_id: order.restaurantId, first_settled_at: now(), completed_orders: 1 })
        .onConflict((conflict) => conflict.column('restaurant_id').doUpdateSet((eb) => ({ completed_orders: eb('restaurant_commission_clock.completed_orders', '+', 1) })))
        .execute();
    });
  }

  /** Refund `refundMinor` from the escrow to the wallet; the rest (a kept fee) to the restaurant; the escrow ends at zero. */
  async function refundFromEscrow(orderId: string, refundMinor: bigint, outcome: 'refunded' | 'resolved'): Promise<void> {
    const { state } = await options.orders()!.load(orderId);
    const order = state.order;
    if (order === null) return;
    const held = await escrowAvailable(orderId);
    if (held === 0n) return; // never funded (payment failed or expired), or already settled
    const refund = refundMinor > held ? held : refundMinor;
    const kept = held - refund;
    const escrow = orderEscrowId(orderId, 'XAF');
    const transfers: Transfer[] = [];
    if (refund > 0n) transfers.push({ id: `refund:${orderId}:escrow`, debitAccountId: escrow, creditAccountId: customerWalletId(order.customer.id, 'XAF'), amountMinor: refund, currency: 'XAF', code: 'refund', flags: {}, userData: { orderId, category: 'refunds' } });
    if (kept > 0n) transfers.push({ id: `refund:${orderId}:kept`, debitAccountId: escrow, creditAccountId: restaurantPayableId(order.restaurantId, 'XAF'), amountMinor: kept, currency: 'XAF', code: 'escrow_release', flags: {}, userData: { orderId, restaurantId: order.restaurantId } });
    const last = transfers.length - 1;
    transfers[last] = { ...transfers[last]!, flags: { closingDebit: true } };
    await db.insertInto('order_settlements').values({
      order_id: orderId, restaurant_id: order.restaurantId, driver_id: state.driverId, customer_id: order.customer.id, currency: 'XAF', outcome,
      escrow_minor: held, subtotal_minor: BigInt(order.pricing.subtotalMinor), commission_rate: '0', commission_tier: 'none', commission_minor: 0n,
      restaurant_share_minor: kept, driver_fee_minor: 0n, tip_minor: 0n, delivery_margin_minor: 0n, tax_minor: 0n, refund_minor: refund, settled_at: now(),
    }).onConflict((conflict) => conflict.column('order_id').doNothing()).execute();
    await book(transfers);
  }

  /** A dispute resolved after release: the restaurant gives back up to its share, the platform the rest. */
  async function refundAfterRelease(orderId: string, refundMinor: bigint): Promise<void> {
    const settled = await db.selectFrom('order_settlements').selectAll().where('order_id', '=', orderId).executeTakeFirstOrThrow();
    const payable = restaurantPayableId(settled.restaurant_id, 'XAF');
    const wallet = customerWalletId(settled.customer_id, 'XAF');
    const payableAvailable = (await ledger.account(payable))?.availableMinor ?? 0n;
    let fromRestaurant = refundMinor < settled.restaurant_share_minor ? refundMinor : settled.restaurant_share_minor;
    if (fromRestaurant > payableAvailable) fromRestaurant = payableAvailable;
    const fromPlatform = refundMinor - fromRestaurant;
    const transfers: Transfer[] = [];
    if (fromRestaurant > 0n) transfers.push({ id: `refund:${orderId}:dispute-restaurant`, debitAccountId: payable, creditAccountId: wallet, amountMinor: fromRestaurant, currency: 'XAF', code: 'refund', flags: {}, userData: { orderId, category: 'refunds' } });
    if (fromPlatform > 0n) transfers.push({ id: `refund:${orderId}:dispute-platform`, debitAccountId: promotionsExpenseId('XAF'), creditAccountId: wallet, amountMinor: fromPlatform, currency: 'XAF', code: 'refund', flags: {}, userData: { orderId, category: 'refunds' } });
    if (transfers.length === 0) return;
    await book(transfers);
    await db.updateTable('order_settlements').set({ refund_minor: refundMinor, outcome: 'resolved' }).where('order_id', '=', orderId).where('outcome', '=', 'released').execute();
  }

  async function handle(event: RecordedEvent): Promise<void> {
    const orderId = event.stream.slice('order-'.length);
    const data = event.data as { refundMinor?: number };
    switch (event.type as (typeof HANDLED)[number]) {
      case 'OrderDelivered':
        await release(orderId);
        break;
      case 'OrderRejected':
      case 'OrderCancelled':
        await refundFromEscrow(orderId, BigInt(data.refundMinor ?? 0), 'refunded');
        break;
      case 'OrderDisputeResolved': {
        const released = await db.selectFrom('order_settlements').select('outcome').where('order_id', '=', orderId).executeTakeFirst();
        if (released?.outcome === 'released' || released?.outcome === 'resolved') await refundAfterRelease(orderId, BigInt(data.refundMinor ?? 0));
        else await refundFromEscrow(orderId, BigInt(data.refundMinor ?? 0), 'resolved');
        break;
      }
      default:
        return;
    }
    for (const listener of listeners) listener(event);
  }

  async function checkpoint(): Promise<Position | 'start'> {
    const row = await db.selectFrom('payments_reactor_checkpoints').select('position').where('name', '=', ESCROW_REACTOR).executeTakeFirst();
    return (row?.position as Position | undefined) ?? 'start';
  }

  async function saveCheckpoint(position: Position | 'start'): Promise<void> {
    if (position === 'start') return;
    await db.insertInto('payments_reactor_checkpoints').values({ name: ESCROW_REACTOR, position })
      .onConflict((conflict) => conflict.column('name').doUpdateSet({ position, updated_at: new Date() })).execute();
  }

  async function start(): Promise<void> {
    stopped = false;
    const from = await checkpoint();
    subscription = options.eventStore.subscribeToAll({
      from,
      filter: { streamPrefixes: ['order-'], eventTypes: [...HANDLED] },
      batchSize: 100,
      onBatch: async (events, context) => {
        for (const event of events) await handle(event);
        await saveCheckpoint(context.position);
      },
      onError: (error) => {
        // A ledger or database outage: resume from the checkpoint a little later (at least once).
        logger.error({ err: error }, 'escrow reactor stopped; restarting from its checkpoint');
        if (!stopped) restartTimer = setTimeout(() => void start().catch(() => undefined), RESTART_DELAY_MS);
      },
    });
  }

  return {
    start,
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await subscription?.stop();
    },
    /** Called after each order event this reactor acted on (tests wait on it). */
    onHandled(listener: (event: RecordedEvent) => void) {
      listeners.push(listener);
    },
    release,
    refundFromEscrow,
    escrowAvailable,
  };
}

export type Escrow = ReturnType<typeof createEscrow>;
