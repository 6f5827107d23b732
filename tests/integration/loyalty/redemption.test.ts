import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerPointsId,
  customerWalletId,
  orderEscrowId,
  promotionsExpenseId,
} from '../../../ledger/rules/index.js';
import { createUser } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fundedCustomer, loyaltyOf, until, loyaltyWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_POINT_VALUE_XAF: '1',
    LOYALTY_REDEEM_MAX_PERCENT: '50',
  });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
const ndole = () => ({ items: [{ itemId: world.ndoleId, quantity: 1 }], tipMinor: 100 });

/** A funded customer holding `points` (an award booked through loyalty's own path). */
async function customerWithPoints(points: bigint, walletMinor = 50_000n) {
  const customer = await fundedCustomer(world, walletMinor);
  const outcome = await services().loyalty.grant({
    orderId: randomUUID(),
    userId: customer.userId,
    baseMinor: points * 100n,
    sourceEvent: 'OrderCompleted',
    at: new Date(),
  });
  expect(outcome).toBe('booked');
  return customer;
}

const pointsOf = async (userId: string) => (await account(customerPointsId(userId)))!;

describe('loyalty: redemption at checkout', () => {
  it('points pay part of the food: discount in the order, held, posted on payment; platform-funded at settlement, escrow zero', async () => {
    const customer = await customerWithPoints(800n);
    const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    const placed = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 500 });
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 500 });
    // Paid from the wallet at placement: the reactor posts the hold.
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 500n && points.debitsPending === 0n,
    );
    expect((await pointsOf(customer.userId)).availableMinor).toBe(300n);

    const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
      preparationMinutes: 10,
    });
    await act(world, order.id, 'prepare', world.actors.owner.accessToken);
    await act(world, order.id, 'claim', world.driver.accessToken);
    await act(world, order.id, 'ready', world.actors.owner.accessToken);
    await act(world, order.id, 'pickup', world.driver.accessToken, {
      pickupCode: accepted.json().pickupCode,
    });
    expect(
      (await act(world, order.id, 'deliver', world.driver.accessToken, { deliveryPin: order.deliveryPin }))
        .statusCode,
    ).toBe(200);
    const escrow = await until(
      () => account(orderEscrowId(order.id, 'XAF')),
      (view) => view?.closed === true,
    );
    expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
    // The platform paid the points' 500 XAF into the escrow from the promotions expense.
    expect((await account(promotionsExpenseId('XAF')))!.debitsPosted - expenseBefore).toBe(500n);
    const body = await until(
      async () => (await loyaltyOf(world, customer.accessToken)).json(),
      (view) => view.history.items.some((item: { kind: string }) => item.kind === 'redeemed'),
    );
    expect(body).toMatchObject({ balance: 300, held: 0 });
    expect(body.history.items[0]).toMatchObject({
      kind: 'redeemed',
      direction: 'out',
      points: 500,
      orderId: order.id,
    });
    // The whole stream replayed (balances, invariants, hash chain); the read models are still moving here.
    const report = await services().ledger.verify({ projections: false });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a failed payment voids the hold; a paid order cancelled before acceptance gives the points back', async () => {
    // 1 000 XAF in the wallet cannot pay the order: PAYMENT_FAILED, the hold is voided.
    const poor = await customerWithPoints(600n, 1_000n);
    const failed = await placeOrder(world, poor.accessToken, { ...ndole(), usePoints: 400 });
    expect([201, 402]).toContain(failed.statusCode);
    await until(
      () => pointsOf(poor.userId),
      (points) => points.debitsPending === 0n && points.availableMinor === 600n,
    );
    expect((await pointsOf(poor.userId)).debitsPosted).toBe(0n);

    const customer = await customerWithPoints(600n);
    const placed = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 400 });
    expect(placed.statusCode, placed.body).toBe(201);
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 400n,
    );
    const cancelled = await act(world, placed.json().id, 'cancel', customer.accessToken, {
      reason: 'changed my mind',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await until(
      () => pointsOf(customer.userId),
      (points) => points.availableMinor === 600n,
    );
    // Replayed from the start, the redemption reactor books nothing twice.
    await services().loyalty.redemption.stop();
    await services()
      .db.deleteFrom('loyalty_reactor_checkpoints')
      .where('name', '=', 'loyalty-redemptions')
      .execute();
    await services().loyalty.redemption.start();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await pointsOf(customer.userId)).availableMinor).toBe(600n);
    expect((await pointsOf(poor.userId)).availableMinor).toBe(600n);
  });

  it('bad usePoints is a clear 4xx and changes nothing: not a positive integer, above the balance, above the cap, with a coupon', async () => {
    const customer = await customerWithPoints(300n);
    const walletBefore = (await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor;
    for (const usePoints of [-5, 0, 1.5, 10_000_000_000, '100', null, true]) {
      const response = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints });
      expect(response.statusCode, `${JSON.stringify(usePoints)}: ${response.body}`).toBe(400);
    }
    const cases: [Record<string, unknown>, string][] = [
      [{ usePoints: 301 }, 'points_insufficient'],
      [{ usePoints: 1_251 }, 'points_over_cap'], // 50 % of 2 500
      [{ usePoints: 100, couponCode: 'WELCOME' }, 'coupon_invalid'], // the coupon is read first, then points,
    ];
    for (const [overrides, code] of cases) {
      const response = await placeOrder(world, customer.accessToken, { ...ndole(), ...overrides });
      expect(response.statusCode, response.body).toBe(422);
      expect(response.json().code).toBe(code);
    }
    const points = await pointsOf(customer.userId);
    expect(points).toMatchObject({ availableMinor: 300n, debitsPending: 0n, debitsPosted: 0n });
    expect((await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor).toBe(walletBefore);
    const orders = await services()
      .db.selectFrom('orders_view')
      .select('order_id')
      .where('customer_id', '=', customer.userId)
      .execute();
    expect(orders).toEqual([]);
  });

  it('parallel orders on the same points: exactly what the balance covers succeeds, never below zero', async () => {
    const customer = await customerWithPoints(500n);
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 200 }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode).sort();
    expect(statuses).toEqual([201, 201, 422, 422, 422]);
    for (const response of responses.filter((r) => r.statusCode === 422))
      expect(response.json().code).toBe('points_insufficient');
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 400n && points.debitsPending === 0n,
    );
    expect((await pointsOf(customer.userId)).availableMinor).toBe(100n);
    const guest = await createUser(world.testApp, { roles: ['customer'] });
    const none = await placeOrder(world, guest.accessToken, { ...ndole(), usePoints: 1 });
    expect(none.json().code).toBe('points_insufficient');
  });
});
