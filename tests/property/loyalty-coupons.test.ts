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

/**
 * Discounts against the real ledger, through the real API: random sequences of orders with a
 * platform coupon, a restaurant coupon (either sometimes with points beside it), points or
 * nothing, each delivered or cancelled. After each
 * order: the escrow is zero; the promotions expense paid exactly the platform-funded discounts of
 * the delivered orders (once: a settlement's transfer ids are the order's); the restaurant's share
 * and the commission add up to the food less its own coupon; a cancelled order's discount was
 * never booked and its coupon use is given back, its points returned; the customer paid exactly
 * the totals of the delivered orders; points never go negative. The ledger verifies at the end.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({ LOYALTY_POINT_VALUE_XAF: '1', LOYALTY_REDEEM_MAX_PERCENT: '50' });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
let codes = 0;

type Source = 'none' | 'platform' | 'restaurant' | 'points';
interface Step {
  source: Source;
  percent: boolean;
  value: number;
  quantity: number;
  /** A coupon with points beside it (coupon first, then `value` points on the food left). */
  withPoints: boolean;
  end: 'deliver' | 'cancel';
}

const step: fc.Arbitrary<Step> = fc.record({
  source: fc.constantFrom<Source>('none', 'platform', 'restaurant', 'points'),
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
        for (const item of steps) {
          const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
          const pointsBefore = (await account(customerPointsId(customer.userId)))!.availableMinor;
          const withCoupon = item.source === 'platform' || item.source === 'restaurant';
          // Points alone: up to 600; beside a coupon: up to 60 (always within 50 % of what a
          // coupon of at most 60 % or 600 XAF leaves of 2 500 XAF or more).
          const usePoints =
            item.source === 'points'
              ? item.value * 10
              : withCoupon && item.withPoints
                ? item.value
                : undefined;
          const couponCode = withCoupon ? await couponFor(item) : undefined;
          const placed = await placeOrder(world, customer.accessToken, {
            items: [{ itemId: world.ndoleId, quantity: item.quantity }],
            tipMinor: 0,
            ...(couponCode === undefined ? {} : { couponCode }),
            ...(usePoints === undefined ? {} : { usePoints }),
          });
          expect(placed.statusCode, placed.body).toBe(201);
          const order = placed.json();
          const { subtotalMinor, discountMinor, totalMinor } = order.pricing;
          expect(discountMinor).toBeLessThanOrEqual(subtotalMinor);
          expect(totalMinor).toBeGreaterThanOrEqual(0);
          // The points' part of the discount (1 XAF a point), the coupon's is the rest.
          const pointsPart = BigInt(usePoints ?? 0);
          const restaurantPart = item.source === 'restaurant' ? BigInt(discountMinor) - pointsPart : 0n;
          if (usePoints !== undefined) expect(BigInt(discountMinor)).toBeGreaterThanOrEqual(pointsPart);
          if (item.source === 'none') expect(discountMinor).toBe(0);
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
            expect(await credited(`settle:${order.id}:promotion_funding`)).toBe(platformFunded);
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
