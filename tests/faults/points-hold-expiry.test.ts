/**
 * Fault schedule: a late payment after the order's points hold expired (issue #21,
 * docs/loyalty.md "A hold that expired before payment"). Points are held for
 * LOYALTY_POINTS_HOLD_SECONDS (6 s here) and the Mobile Money simulator captures after 12 s, so
 * the capture reaches loyalty after the ledger expired the hold and the customer spent the same
 * points on another order (paid from the wallet, its hold posted at once). Then the redemption
 * reactor is replayed from an empty checkpoint. In the second schedule the reactor is also down
 * (behind by more than the hold) while a late-paid order is cancelled.
 *
 * After the schedule: the late order took no points (no post, no return, no second debit), its
 * lapse is recorded once; the other order spent its points once; the points account never went
 * negative and equals what was granted less what was spent; the late order's money is exact (the
 * customer paid the quoted total, the promotions expense paid the points' part into the escrow,
 * the restaurant got its whole food, the escrow closed at zero); the ledger verifies.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerPointsId, orderEscrowId, promotionsExpenseId } from '../../ledger/rules/index.js';
import { fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import { act, getOrder, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';

const HOLD_SECONDS = 6;
let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_POINT_VALUE_XAF: '1',
    LOYALTY_REDEEM_MAX_PERCENT: '50',
    LOYALTY_POINTS_HOLD_SECONDS: String(HOLD_SECONDS),
    PAYMENT_SIMULATOR_DELAY_MS: '12000',
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
const pointsOf = async (userId: string) => (await account(customerPointsId(userId)))!;
const momo = { kind: 'mobile_money', provider: 'MTN', phone: '+237671111111' };
const ndole = () => ({ items: [{ itemId: world.ndoleId, quantity: 1 }], tipMinor: 0 });

/** The amount a transfer moved (its credit line, posted or a post of a hold), if the read model has it. */
async function transferAmount(transferId: string): Promise<bigint | undefined> {
  const result = await sql<{ amount_minor: string }>`
    SELECT amount_minor::text FROM ledger_entries
    WHERE transfer_id = ${transferId} AND side = 'credit' AND phase IN ('posted', 'post_pending')`.execute(
    services().db,
  );
  const row = result.rows[0];
  return row === undefined ? undefined : BigInt(row.amount_minor);
}

const lapses = (orderId: string) =>
  services().db.selectFrom('loyalty_lapsed_holds').selectAll().where('order_id', '=', orderId).execute();

/** Waits for the ledger to expire the customer's holds (the writer's own expiry, run here by hand). */
async function holdsExpired(userId: string) {
  await until(
    async () => {
      await services().ledger.expireHolds();
      return pointsOf(userId);
    },
    (points) => points.debitsPending === 0n,
    60_000,
  );
}

async function paid(orderId: string, token: string) {
  return until(
    async () => (await getOrder(world, orderId, token)).json(),
    (order) => order.status !== 'PENDING_PAYMENT',
    60_000,
  );
}

async function deliver(order: { id: string; deliveryPin: string }) {
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
  return until(
    () => account(orderEscrowId(order.id, 'XAF')),
    (view) => view?.closed === true,
  );
}

describe('fault schedule: a late payment after the points hold expired', () => {
  it('the late order takes no points, the points spent elsewhere meanwhile are spent once, money and points exact', async () => {
    const customer = await fundedCustomer(world);
    expect(
      await services().loyalty.grant({
        orderId: randomUUID(),
        userId: customer.userId,
        baseMinor: 50_000n,
        sourceEvent: 'OrderCompleted',
        at: new Date(),
      }),
    ).toBe('booked');
    expect((await pointsOf(customer.userId)).availableMinor).toBe(500n);

    // 400 points held for a Mobile Money order the customer pays 12 s later.
    const late = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 400, payment: momo });
    expect(late.statusCode, late.body).toBe(201);
    const lateOrder = late.json();
    expect(lateOrder.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 400 });
    expect((await pointsOf(customer.userId)).debitsPending).toBe(400n);
    // Fault 1: the hold expires before the payment: the 400 points are the customer's again...
    await holdsExpired(customer.userId);
    expect((await pointsOf(customer.userId)).availableMinor).toBe(500n);
    // ...and the customer spends them on another order (paid from the wallet at once).
    const spent = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 400 });
    expect(spent.statusCode, spent.body).toBe(201);
    await until(
      () => pointsOf(customer.userId),
      (points) => points.debitsPosted === 400n && points.debitsPending === 0n,
    );
    // Fault 2: the late payment is captured now.
    expect((await paid(lateOrder.id, customer.accessToken)).status).toBe('PLACED');
    await until(
      () => lapses(lateOrder.id),
      (rows) => rows.length === 1,
    );
    // Fault 3: the redemption reactor replays everything from an empty checkpoint.
    await services().loyalty.redemption.stop();
    await services()
      .db.deleteFrom('loyalty_reactor_checkpoints')
      .where('name', '=', 'loyalty-redemptions')
      .execute();
    const outcomes: string[] = [];
    services().loyalty.redemption.onEnded((orderId, outcome) => {
      if (orderId === lateOrder.id) outcomes.push(outcome);
    });
    await services().loyalty.redemption.start();
    await until(
      async () => outcomes,
      (seen) => seen.length >= 1,
    );
    expect(outcomes).toEqual(['lapsed']);

    // Points: the late order took none; the other order spent its 400 once; 100 left, never negative.
    const points = await pointsOf(customer.userId);
    expect(points).toMatchObject({ creditsPosted: 500n, debitsPosted: 400n, debitsPending: 0n });
    expect(points.availableMinor).toBe(100n);
    expect(await transferAmount(`points-post:${lateOrder.id}`)).toBeUndefined();
    expect(
      await until(
        () => transferAmount(`points-post:${spent.json().id}`),
        (amount) => amount !== undefined,
      ),
    ).toBe(400n);
    const [lapse] = await lapses(lateOrder.id);
    expect(lapse).toMatchObject({ customer_id: customer.userId, points: 400n, discount_minor: 400n });
    // Finance reads the lapse on its route (the order, the points, the XAF the platform funds).
    const finance = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/loyalty/lapsed-holds?limit=100',
      headers: { authorization: `Bearer ${world.actors.admin.accessToken}` },
    });
    expect(finance.statusCode, finance.body).toBe(200);
    expect(finance.json().items).toContainEqual({
      orderId: lateOrder.id,
      points: 400,
      discountMinor: 400,
      recordedAt: lapse!.recorded_at.toISOString(),
    });

    // Money: the late order was paid its quoted total; delivered, the promotions expense paid the
    // points' 400 into the escrow, the restaurant got the whole food, the escrow closed at zero.
    const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    const escrow = await deliver(lateOrder);
    expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
    expect((await account(promotionsExpenseId('XAF')))!.debitsPosted - expenseBefore).toBe(400n);
    // The read model follows the writer: wait for the settlement's legs to show.
    const legs = await until(
      async () =>
        Promise.all(
          ['promotion_funding', 'restaurant_share', 'platform_commission'].map((leg) =>
            transferAmount(`settle:${lateOrder.id}:${leg}`),
          ),
        ),
      (amounts) => amounts.every((amount) => amount !== undefined),
      30_000,
    );
    expect(legs[0]).toBe(400n);
    expect(legs[1]! + legs[2]!).toBe(2_500n);

    const report = await services().ledger.verify({ projections: false });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a late-paid order cancelled afterwards gives back no points it never took; the money goes back', async () => {
    const customer = await fundedCustomer(world);
    await services().loyalty.grant({
      orderId: randomUUID(),
      userId: customer.userId,
      baseMinor: 30_000n,
      sourceEvent: 'OrderCompleted',
      at: new Date(),
    });
    // The redemption reactor is down (behind by more than the hold's timeout).
    await services().loyalty.redemption.stop();
    const late = await placeOrder(world, customer.accessToken, { ...ndole(), usePoints: 300, payment: momo });
    expect(late.statusCode, late.body).toBe(201);
    await holdsExpired(customer.userId);
    expect((await paid(late.json().id, customer.accessToken)).status).toBe('PLACED');
    // The reactor is back only after the customer cancelled: it sees the capture, then the cancel.
    const cancelled = await act(world, late.json().id, 'cancel', customer.accessToken, {
      reason: 'changed my mind',
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    await services().loyalty.redemption.start();
    await until(
      () => lapses(late.json().id),
      (rows) => rows.length === 1,
    );
    // The money went back to the customer: the escrow is back at zero.
    const escrow = await until(
      () => account(orderEscrowId(late.json().id, 'XAF')),
      (view) => view != null && view.creditsPosted === view.debitsPosted,
    );
    expect(escrow!.creditsPosted).toBe(BigInt(late.json().pricing.totalMinor));
    const points = await pointsOf(customer.userId);
    expect(points).toMatchObject({ creditsPosted: 300n, debitsPosted: 0n, debitsPending: 0n });
    expect(points.availableMinor).toBe(300n);
    expect(await transferAmount(`points-return:${late.json().id}`)).toBeUndefined();
    const report = await services().ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });
});
