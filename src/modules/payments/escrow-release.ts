/**
 * Releasing an order's escrow at delivery: the settlement chain (restaurant share at its
 * commission tier or an admin override, platform commission, driver fee + 100 % of the tip,
 * delivery margin, tax), the last leg closing the escrow at zero. The rate in force is stored
 * with the order's settlement row first, so a redelivery books the same chain (transfer ids make
 * it land once).
 */
import type { Logger } from 'pino';
import {
  commissionTier,
  driverFeeMinor,
  orderSettlement,
  settlementTransfers,
  type OrderSettlement,
  type Transfer,
} from '../../../ledger/rules/index.js';
import type { CommissionRepository } from './commission-repository.js';
import type { SettlementsRepository } from './settlements-repository.js';

export interface OrderLike {
  orderId: string;
  restaurantId: string;
  customer: { id: string };
  /** The coupon applied and who funds its discount (absent: the platform funds any discount). */
  coupon?: { fundedBy: 'platform' | 'restaurant'; discountMinor?: number };
  /** The automatic promotion applied instead, funded the same way (its own part beside points). */
  promotion?: { fundedBy: 'platform' | 'restaurant'; discountMinor?: number };
  /** A loyalty tier's free delivery: the waived fee, inside the discount, paid by the platform. */
  freeDelivery?: { discountMinor: number };
  /** The city's commission rate recorded at placement (issue #26); absent: the platform's tiers. */
  cityCommissionRate?: string;
  pricing: {
    subtotalMinor: number;
    discountMinor: number;
    deliveryFeeMinor: number;
    taxMinor: number;
    tipMinor: number;
    totalMinor: number;
    distanceMetres: number;
  };
}

export interface EscrowOrders {
  load(
    orderId: string,
  ): Promise<{ state: { status: string; order: OrderLike | null; driverId: string | null } }>;
}

export interface EscrowReleaseOptions {
  settlements: SettlementsRepository;
  commission: CommissionRepository;
  orders: () => EscrowOrders | undefined;
  /** What the escrow holds now, from the ledger writer. */
  escrowAvailable: (orderId: string) => Promise<bigint>;
  book: (transfers: Transfer[]) => Promise<void>;
  logger: Logger;
  now: () => Date;
}

export function createEscrowRelease(options: EscrowReleaseOptions) {
  const { settlements, commission, escrowAvailable, book, logger, now } = options;

  /**
   * The commission rate in force for this order: the restaurant's override, else the city's rate
   * the order recorded at placement, else the platform's tier. Stored with the settlement, so a
   * redelivery reuses it.
   */
  async function rateFor(order: OrderLike): Promise<{ tier: string; rate: string }> {
    const restaurantId = order.restaurantId;
    const [overrideRate, clock] = await Promise.all([
      commission.overrideRate(restaurantId, now()),
      commission.clockOf(restaurantId),
    ]);
    const current = now();
    return commissionTier({
      restaurantActivatedAtMs: (clock?.first_settled_at ?? current).getTime(),
      nowMs: current.getTime(),
      completedOrders: clock?.completed_orders ?? 0,
      ...(overrideRate === undefined ? {} : { overrideRate }),
      ...(order.cityCommissionRate === undefined ? {} : { cityRate: order.cityCommissionRate }),
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
      // A restaurant's coupon or promotion reduces its share (commission on the food less the discount); any
      // other discount (a platform coupon, points) is paid into the escrow by the promotions expense.
      discountFundedBy: order.coupon?.fundedBy ?? order.promotion?.fundedBy ?? 'platform',
      // A restaurant's coupon with points beside it: the restaurant funds the coupon's part, the
      // promotions expense the points' (orders before stacking carry no part: all of it).
      ...(order.coupon?.fundedBy === 'restaurant' && order.coupon.discountMinor !== undefined
        ? { restaurantDiscountMinor: BigInt(order.coupon.discountMinor) }
        : {}),
      // A restaurant's promotion with points beside it: the restaurant funds the promotion's part.
      ...(order.coupon === undefined &&
      order.promotion?.fundedBy === 'restaurant' &&
      order.promotion.discountMinor !== undefined
        ? { restaurantDiscountMinor: BigInt(order.promotion.discountMinor) }
        : {}),
      ...(order.freeDelivery === undefined
        ? {}
        : { deliveryDiscountMinor: BigInt(order.freeDelivery.discountMinor) }),
      commissionRate: rate,
      driverFeeMinor: driverFeeMinor(Math.ceil(pricing.distanceMetres)),
    });
  }

  async function release(orderId: string): Promise<void> {
    const { state } = await options.orders()!.load(orderId);
    const order = state.order;
    if (order === null || state.driverId === null) return;
    const stored = await settlements.find(orderId);
    if (stored === undefined && (await escrowAvailable(orderId)) !== BigInt(order.pricing.totalMinor)) {
      logger.error({ orderId }, 'escrow does not hold the order total at delivery: nothing released');
      return;
    }
    const { tier, rate } =
      stored === undefined
        ? await rateFor(order)
        : { tier: stored.commission_tier, rate: stored.commission_rate };
    const settlement = settlementOf(order, rate);
    if (stored === undefined) await recordRelease(order, state.driverId, tier, rate, settlement);
    await book(
      settlementTransfers({
        orderId,
        restaurantId: order.restaurantId,
        driverId: state.driverId,
        currency: 'XAF',
        settlement,
      }),
    );
  }

  async function recordRelease(
    order: OrderLike,
    driverId: string,
    tier: string,
    rate: string,
    settlement: OrderSettlement,
  ): Promise<void> {
    const leg = (kind: string) => settlement.legs.find((item) => item.kind === kind)?.amountMinor ?? 0n;
    await settlements.recordRelease(
      {
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
      },
      now(),
    );
  }

  return { release };
}
