import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerPointsId,
  customerWalletId,
  orderEscrowId,
  promotionsExpenseId,
} from '../../ledger/rules/index.js';
import { authHeader } from '../helpers/auth.js';
import { fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import { act, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';
import type { OrderCreatedData } from '../../src/modules/orders/index.js';

/**
 * Discounts against the real ledger, through the real API: random sequences of orders with a
 * platform coupon, a restaurant coupon, a platform or a restaurant automatic promotion (any of
 * them sometimes with points beside it), points or nothing, each delivered or cancelled; and the
 * tier's free delivery (one a month for every tier here) on whichever order comes first. After
 * each order: its parts (offer, points, free delivery) sum to its discount, the free delivery
 * given exactly when the month still has one; the escrow is zero; the promotions expense paid
 * exactly the platform-funded discounts of the delivered orders (once: a settlement's transfer ids
 * are the order's), the food's on `promotion_funding` and the fee on `delivery_benefit`; the
 * restaurant's share and the commission add up to the food less its own offer; a cancelled
 * order's discount was never booked, its coupon use and free delivery are given back, its points
 * returned; the customer paid exactly the totals of the delivered orders; points never go
 * negative. The ledger verifies at the end.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_POINT_VALUE_XAF: '1',
    LOYALTY_REDEEM_MAX_PERCENT: '50',
    LOYALTY_FREE_DELIVERIES_BRONZE: '1',
    LOYALTY_FREE_DELIVERIES_SILVER: '1',
    LOYALTY_FREE_DELIVERIES_GOLD: '1',
  });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
let codes = 0;

type Source = 'none' | 'platform' | 'restaurant' | 'promo-platform' | 'promo-restaurant' | 'points';
interface Step {
  source: Source;
  percent: boolean;
  value: number;
  quantity: number;
  /** An offer with points beside it (the offer first, then `value` points on the food left). */
  withPoints: boolean;
  end: 'deliver' | 'cancel';
}

const step: fc.Arbitrary<Step> = fc.record({
  source: fc.constantFrom<Source>(
    'none',
    'platform',
    'restaurant',
    'promo-platform',
    'promo-restaurant',
    'points',
  ),
  percent: fc.boolean(),
  value: fc.integer({ min: 1, max: 60 }),
  quantity: fc.integer({ min: 1, max: 3 }),
  withPoints: fc.boolean(),
  end: fc.constantFrom<'deliver' | 'cancel'>('deliver', 'cancel'),
});

async function credited(transferId: string): Promise<bigint> {
  const result = await sql<{ amount_minor: string }>`
    SELECT amount_minor::text FROM ledger_entries
    WHERE transfer_id = ${transferId} AND side = 'credit' AND phase = 'posted'`.execute(services().db);
  return BigInt(result.rows[0]?.amount_minor ?? '0');
}

async function couponFor(step: Step): Promise<string> {
  const restaurant = step.source === 'restaurant';
  const created = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/coupons',
    headers: authHeader(restaurant ? world.actors.owner.accessToken : world.actors.admin.accessToken),
    payload: {
      code: `PROP${process.pid}X${(codes += 1)}`,
      // Percent 1–60 % of the food, or 10–600 XAF off.
      ...(step.percent
        ? { kind: 'percent', percent: String(step.value) }
        : { kind: 'fixed', amountMinor: step.value * 10 }),
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
      totalLimit: 1,
      ...(restaurant ? { restaurantId: world.restaurantId } : {}),
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json().code as string;
}

/**
 * An automatic promotion running now for the restaurant (percent or fixed, like the coupons); the
 * caller withdraws it once its order is placed (the order keeps what it was given).
 */
async function promotionFor(step: Step): Promise<string> {
  const restaurant = step.source === 'promo-restaurant';
  const created = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/promotions',
    headers: authHeader(restaurant ? world.actors.owner.accessToken : world.actors.admin.accessToken),
    payload: {
      name: `Property ${(codes += 1)}`,
      ...(step.percent
        ? { kind: 'percent', percent: String(step.value) }
        : { kind: 'fixed', amountMinor: step.value * 10 }),
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 86_400_000).toISOString(),
      ...(restaurant ? { restaurantId: world.restaurantId } : {}),
    },
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json().id as string;
}

async function withdraw(step: Step, promotionId: string): Promise<void> {
  const withdrawn = await world.testApp.app.inject({
    method: 'POST',
    url: `/v1/promotions/${promotionId}/disable`,
    headers: authHeader(
      step.source === 'promo-restaurant' ? world.actors.owner.accessToken : world.actors.admin.accessToken,
    ),
  });
  expect(withdrawn.statusCode, withdrawn.body).toBe(200);
}

async function deliver(order: { id: string; deliveryPin: string }): Promise<void> {
  const { owner } = world.actors;
  const accepted = await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  await act(world, order.id, 'prepare', owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', owner.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
}

describe('discounts on the real ledger (property)', () => {
  it('every discount is booked once by the right account, never for a cancelled order, and the escrow ends at zero', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 3 }), async (steps) => {
        const customer = await fundedCustomer(world, 200_000n);
        await services().loyalty.grant({
          orderId: randomUUID(),
          userId: customer.userId,
          baseMinor: 300_000n,
          sourceEvent: 'OrderCompleted',
          at: new Date(),
        });
        let paid = 0n;
        // The month's free delivery (one for every tier here): taken by the first order placed,
        // given back when that order is cancelled.
        let freeLeft = 1;
        for (const item of steps) {
          const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
          const pointsBefore = (await account(customerPointsId(customer.userId)))!.availableMinor;
          const withCoupon = item.source === 'platform' || item.source === 'restaurant';
          const withPromotion = item.source === 'promo-platform' || item.source === 'promo-restaurant';
          // Points alone: up to 600; beside an offer: up to 60 (always within 50 % of what an
          // offer of at most 60 % or 600 XAF leaves of 2 500 XAF or more).
          const usePoints =
            item.source === 'points'
              ? item.value * 10
              : (withCoupon || withPromotion) && item.withPoints
                ? item.value
                : undefined;
          const couponCode = withCoupon ? await couponFor(item) : undefined;
          const promotionId = withPromotion ? await promotionFor(item) : undefined;
          const placed = await placeOrder(world, customer.accessToken, {
            items: [{ itemId: world.ndoleId, quantity: item.quantity }],
            tipMinor: 0,
            ...(couponCode === undefined ? {} : { couponCode }),
            ...(usePoints === undefined ? {} : { usePoints }),
          });
          if (promotionId !== undefined) await withdraw(item, promotionId);
          expect(placed.statusCode, placed.body).toBe(201);
          const order = placed.json();
          const { subtotalMinor, discountMinor, totalMinor, deliveryFeeMinor } = order.pricing;
          expect(discountMinor).toBeLessThanOrEqual(subtotalMinor + deliveryFeeMinor);
          expect(totalMinor).toBeGreaterThanOrEqual(0);
          // Its parts, as the order's first event states them.
          const [created] = await services().eventStore.readStream(`order-${order.id}`, { maxCount: 1 });
          const data = created!.data as OrderCreatedData;
          const offer = data.coupon ?? data.promotion;
          const offerPart = BigInt(offer?.discountMinor ?? 0);
          const pointsPart = BigInt(data.pointsDiscountMinor ?? 0);
          const feePart = BigInt(data.freeDelivery?.discountMinor ?? 0);
          expect(offerPart + pointsPart + feePart).toBe(BigInt(discountMinor));
          expect(offerPart + pointsPart).toBeLessThanOrEqual(BigInt(subtotalMinor));
          expect(data.promotion?.id).toBe(promotionId);
          if (withCoupon || withPromotion) {
            expect(offer?.fundedBy).toBe(item.source.endsWith('restaurant') ? 'restaurant' : 'platform');
            expect(offerPart).toBeGreaterThan(0n);
          }
          // Points at 1 XAF each: exactly what was asked.
          expect(pointsPart).toBe(BigInt(usePoints ?? 0));
          expect(feePart).toBe(freeLeft > 0 ? BigInt(deliveryFeeMinor) : 0n);
          if (feePart > 0n) freeLeft -= 1;
          const restaurantPart = offer?.fundedBy === 'restaurant' ? offerPart : 0n;
          if (item.source === 'none') expect(offerPart + pointsPart).toBe(0n);
          const escrowId = orderEscrowId(order.id, 'XAF');
          if (item.end === 'deliver') {
            await deliver(order);
            paid += BigInt(totalMinor);
            const escrow = await until(
              () => account(escrowId),
              (view) => view?.closed === true,
            );
            expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
            await until(
              () => credited(`settle:${order.id}:restaurant_share`),
              (amount) => amount > 0n,
            );
            const platformFunded = BigInt(discountMinor) - restaurantPart;
            expect(((await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n) - expenseBefore).toBe(
              platformFunded,
            );
            expect(await credited(`settle:${order.id}:promotion_funding`)).toBe(platformFunded - feePart);
            expect(await credited(`settle:${order.id}:delivery_benefit`)).toBe(feePart);
            const share = await credited(`settle:${order.id}:restaurant_share`);
            const commission = await credited(`settle:${order.id}:platform_commission`);
            expect(share + commission).toBe(BigInt(subtotalMinor) - restaurantPart);
          } else {
            const cancelled = await act(world, order.id, 'cancel', customer.accessToken, {
              reason: 'changed my mind',
            });
            expect(cancelled.statusCode, cancelled.body).toBe(200);
            const escrow = await until(
              () => account(escrowId),
              (view) => view !== null && view.availableMinor === 0n && view.debitsPending === 0n,
            );
            expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
            // Nothing of the discount was booked; the coupon's use and the points come back.
            expect((await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n).toBe(expenseBefore);
            if (couponCode !== undefined)
              await until(
                () => services().loyalty.couponAdmin.redemption(order.id),
                (row) => row?.status === 'released',
              );
            await until(
              () => account(customerPointsId(customer.userId)),
              (points) => points!.availableMinor === pointsBefore && points!.debitsPending === 0n,
            );
            if (feePart > 0n) {
              await until(
                async () =>
                  (
                    await services()
                      .db.selectFrom('loyalty_free_deliveries')
                      .select('status')
                      .where('order_id', '=', order.id)
                      .executeTakeFirst()
                  )?.status,
                (status) => status === 'released',
              );
              freeLeft += 1;
            }
          }
          const points = (await account(customerPointsId(customer.userId)))!;
          expect(points.creditsPosted - points.debitsPosted - points.debitsPending).toBeGreaterThanOrEqual(
            0n,
          );
        }
        await until(
          () => account(customerWalletId(customer.userId, 'XAF')),
          (wallet) => wallet!.availableMinor === 200_000n - paid,
        );
      }),
      { numRuns: 8, seed: 20_261_206, endOnFailure: true },
    );
    const report = await services().ledger.verify({ projections: false });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  }, 300_000);
});
