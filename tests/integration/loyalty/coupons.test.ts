import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  orderEscrowId,
  promotionsExpenseId,
  restaurantPayableId,
} from '../../../ledger/rules/index.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { activeRestaurant } from '../catalog/helpers.js';
import { act, idempotencyKey, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { fundedCustomer, loyaltyWorld, until } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({});
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const account = (id: string) => services().ledger.account(id);
const ndole = (quantity = 1) => ({ items: [{ itemId: world.ndoleId, quantity }], tipMinor: 100 });
const admin = () => world.actors.admin;
const owner = () => world.actors.owner;
let codes = 0;
const nextCode = (prefix: string) => `${prefix}${process.pid}X${(codes += 1)}`;

function window(startOffsetMs = -60_000, endOffsetMs = 86_400_000) {
  return {
    startsAt: new Date(Date.now() + startOffsetMs).toISOString(),
    endsAt: new Date(Date.now() + endOffsetMs).toISOString(),
  };
}

async function createCoupon(token: string, body: Record<string, unknown>, key?: string) {
  return world.testApp.app.inject({
    method: 'POST',
    url: '/v1/coupons',
    headers: { ...authHeader(token), ...(key === undefined ? {} : { 'idempotency-key': key }) },
    payload: body,
  });
}

async function coupon(token: string, body: Record<string, unknown>) {
  const response = await createCoupon(token, { ...window(), ...body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as { id: string; code: string; fundedBy: string; uses: number };
}

async function roiOf(token: string, id: string) {
  return world.testApp.app.inject({
    method: 'GET',
    url: `/v1/coupons/${id}/roi`,
    headers: authHeader(token),
  });
}

/** The posted credit a transfer booked (from the ledger's read model), 0 when none. */
async function credited(transferId: string): Promise<bigint> {
  const result = await sql<{ amount_minor: string }>`
    SELECT amount_minor::text FROM ledger_entries
    WHERE transfer_id = ${transferId} AND side = 'credit' AND phase = 'posted'`.execute(services().db);
  return BigInt(result.rows[0]?.amount_minor ?? '0');
}

async function deliver(order: { id: string; deliveryPin: string }) {
  const accepted = await act(world, order.id, 'accept', owner().accessToken, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  await act(world, order.id, 'prepare', owner().accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', owner().accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.statusCode, delivered.body).toBe(200);
  const escrow = await until(
    () => account(orderEscrowId(order.id, 'XAF')),
    (view) => view?.closed === true,
  );
  // The escrow ends at zero: every franc the customer paid, and the discount's funding, went out.
  expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
  expect(escrow!.debitsPending + escrow!.creditsPending).toBe(0n);
}

const redemptionStatus = (orderId: string) =>
  until(
    () => services().loyalty.couponAdmin.redemption(orderId),
    (row) => row !== undefined,
  ).then((row) => row!.status);

describe('coupons: creation by admins and owners', () => {
  it('an admin’s coupon is platform-funded, an owner’s is their restaurant’s; both audited; a retried creation lands once', async () => {
    const key = idempotencyKey();
    const body = {
      code: nextCode('plat'),
      kind: 'percent',
      percent: '10',
      maxDiscountMinor: 1_000,
      ...window(),
    };
    const first = await createCoupon(admin().accessToken, body, key);
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      fundedBy: 'platform',
      restaurantId: null,
      code: body.code.toUpperCase(),
    });
    const replay = await createCoupon(admin().accessToken, body, key);
    expect(replay.statusCode).toBe(201);
    expect(replay.json().id).toBe(first.json().id);

    const mine = await coupon(owner().accessToken, {
      code: nextCode('resto'),
      kind: 'fixed',
      amountMinor: 500,
      restaurantId: world.restaurantId,
    });
    expect(mine).toMatchObject({ fundedBy: 'restaurant' });
    const audited = await services()
      .db.selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where('resource', 'in', [`coupon:${first.json().id}`, `coupon:${mine.id}`])
      .execute();
    expect(audited.map((row) => row.action).sort()).toEqual([
      'loyalty.coupon_created',
      'loyalty.coupon_created',
    ]);
    expect(audited.map((row) => row.actor_id).sort()).toEqual([admin().userId, owner().userId].sort());

    // The owner lists their restaurant's coupons (paged); the admin's coupon is not among them.
    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/coupons?restaurantId=${world.restaurantId}&limit=1`,
      headers: authHeader(owner().accessToken),
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items.map((item: { id: string }) => item.id)).toEqual([mine.id]);
    expect(listed.json().items[0]).toMatchObject({
      kind: 'fixed',
      amountMinor: 500,
      uses: 0,
      disabledAt: null,
    });
  });

  it('bad definitions, wrong roles and other people’s restaurants are 4xx problems and create nothing', async () => {
    const before = await services()
      .db.selectFrom('coupons')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const valid = { code: nextCode('bad'), kind: 'percent', percent: '10', ...window() };
    const cases: [Record<string, unknown>, number, string][] = [
      [{ ...valid, percent: '0' }, 400, 'invalid_coupon'],
      [{ ...valid, percent: '100.5' }, 400, 'invalid_coupon'],
      [{ ...valid, amountMinor: 100 }, 400, 'invalid_coupon'],
      [{ ...valid, kind: 'fixed', percent: undefined }, 400, 'invalid_coupon'],
      [{ ...valid, ...window(86_400_000, 0) }, 400, 'invalid_coupon'],
      [{ ...valid, ...window(0, 400 * 86_400_000) }, 400, 'invalid_coupon'],
      [{ ...valid, code: 'a\u0000b' }, 400, 'invalid_characters'],
      [{ ...valid, code: null }, 400, 'validation_failed'],
      [{ ...valid, code: 'x'.repeat(41) }, 400, 'validation_failed'],
      [{ ...valid, totalLimit: 0 }, 400, 'validation_failed'],
      [{ ...valid, amountMinor: '500' }, 400, 'validation_failed'],
      [{ ...valid, restaurantId: randomUUID() }, 404, 'restaurant_not_found'],
      [{ ...valid, extra: 1 }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of cases) {
      const response = await createCoupon(admin().accessToken, body);
      expect(response.statusCode, `${JSON.stringify(body)}: ${response.body}`).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().code).toBe(code);
    }
    const stranger = await createUser(world.testApp, { roles: ['restaurant_owner'] });
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const refused: [CreatedUser, Record<string, unknown>, number, string][] = [
      [stranger, { ...valid, restaurantId: world.restaurantId }, 403, 'not_restaurant_owner'],
      [stranger, valid, 400, 'invalid_coupon'],
      [customer, valid, 403, 'permission_denied'],
    ];
    for (const [user, body, status, code] of refused) {
      const response = await createCoupon(user.accessToken, body);
      expect(response.statusCode, response.body).toBe(status);
      expect(response.json().code).toBe(code);
    }
    expect(
      (await world.testApp.app.inject({ method: 'POST', url: '/v1/coupons', payload: valid })).statusCode,
    ).toBe(401);
    const after = await services()
      .db.selectFrom('coupons')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);

    const taken = await coupon(admin().accessToken, {
      code: nextCode('dup'),
      kind: 'fixed',
      amountMinor: 100,
    });
    const again = await createCoupon(admin().accessToken, { ...valid, code: taken.code.toLowerCase() });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('coupon_code_taken');
    // Another owner can neither read the return of nor withdraw a coupon that is not theirs.
    const mine = await coupon(owner().accessToken, {
      code: nextCode('own'),
      kind: 'fixed',
      amountMinor: 100,
      restaurantId: world.restaurantId,
    });
    expect((await roiOf(stranger.accessToken, mine.id)).statusCode).toBe(403);
    expect((await roiOf(owner().accessToken, taken.id)).statusCode).toBe(404);
    expect((await roiOf(owner().accessToken, 'not-a-uuid')).statusCode).toBe(404);
    const listAll = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/coupons',
      headers: authHeader(owner().accessToken),
    });
    expect(listAll.statusCode).toBe(400);
    const badCursor = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/coupons?cursor=bm9wZQ',
      headers: authHeader(admin().accessToken),
    });
    expect(badCursor.json().code).toBe('invalid_cursor');
  });
});

describe('coupons at checkout: exact discount, funded by the right account, escrow zero', () => {
  it('a platform coupon is paid by the promotions expense; the restaurant is paid for the full food', async () => {
    const created = await coupon(admin().accessToken, {
      code: nextCode('ten'),
      kind: 'percent',
      percent: '10',
      maxDiscountMinor: 1_000,
    });
    const customer = await fundedCustomer(world);
    const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    const placed = await placeOrder(world, customer.accessToken, {
      ...ndole(),
      couponCode: created.code.toLowerCase(),
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 250 });
    expect(order.couponCode).toBe(created.code.toLowerCase());
    const [first] = await services().eventStore.readStream(`order-${order.id}`, { maxCount: 1 });
    expect(first!.data).toMatchObject({
      coupon: { id: created.id, fundedBy: 'platform' },
      pricing: { discountMinor: 250 },
    });
    expect(await redemptionStatus(order.id)).toBe('held');

    await deliver(order);
    expect((await account(promotionsExpenseId('XAF')))!.debitsPosted - expenseBefore).toBe(250n);
    // The ledger's read model follows the writer: wait for the settlement's lines.
    await until(
      () => credited(`settle:${order.id}:restaurant_share`),
      (amount) => amount > 0n,
    );
    expect(await credited(`settle:${order.id}:promotion_funding`)).toBe(250n);
    const share = await credited(`settle:${order.id}:restaurant_share`);
    const commission = await credited(`settle:${order.id}:platform_commission`);
    expect(share + commission).toBe(2_500n);
    await until(
      () => services().loyalty.couponAdmin.redemption(order.id),
      (row) => row?.status === 'used',
    );
    const roi = await until(
      async () => (await roiOf(admin().accessToken, created.id)).json(),
      (body) => body.ledger?.promotionFundingMinor === 250,
    );
    expect(roi).toMatchObject({
      orders: 1,
      pending: 0,
      revenueMinor: order.pricing.totalMinor,
      foodMinor: 2_500,
      discountCostMinor: 250,
      fundedBy: 'platform',
      ledger: { promotionFundingMinor: 250, restaurantShareMinor: Number(share) },
      customers: 1,
      repeatCustomers: 0,
      foodPerDiscountFranc: '10.00',
    });
    const report = await services().ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });

  it('a restaurant coupon reduces the restaurant’s share; the promotions expense pays nothing', async () => {
    const created = await coupon(owner().accessToken, {
      code: nextCode('resto'),
      kind: 'fixed',
      amountMinor: 500,
      minSubtotalMinor: 2_000,
      restaurantId: world.restaurantId,
    });
    const customer = await fundedCustomer(world);
    const expenseBefore = (await account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    const payableBefore =
      (await account(restaurantPayableId(world.restaurantId, 'XAF')))?.creditsPosted ?? 0n;
    const placed = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: created.code });
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.pricing).toMatchObject({ subtotalMinor: 2_500, discountMinor: 500 });
    await deliver(order);
    expect((await account(promotionsExpenseId('XAF')))!.debitsPosted - expenseBefore).toBe(0n);
    await until(
      () => credited(`settle:${order.id}:restaurant_share`),
      (amount) => amount > 0n,
    );
    expect(await credited(`settle:${order.id}:promotion_funding`)).toBe(0n);
    const share = await credited(`settle:${order.id}:restaurant_share`);
    const commission = await credited(`settle:${order.id}:platform_commission`);
    // Commission and share are on the food less the restaurant's own discount.
    expect(share + commission).toBe(2_000n);
    expect(
      (await account(restaurantPayableId(world.restaurantId, 'XAF')))!.creditsPosted - payableBefore,
    ).toBe(share);
    const roi = await until(
      async () => (await roiOf(owner().accessToken, created.id)).json(),
      (body) => body.orders === 1 && body.ledger.restaurantShareMinor > 0,
    );
    expect(roi).toMatchObject({
      discountCostMinor: 500,
      fundedBy: 'restaurant',
      ledger: { promotionFundingMinor: 0, restaurantShareMinor: Number(share) },
    });
  });

  it('a coupon that does not apply is 422 and nothing is reserved or charged', async () => {
    const customer = await fundedCustomer(world);
    const walletBefore = (await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor;
    const secondRestaurant = await activeRestaurant(world.testApp, world.actors);
    const elsewhere = await coupon(owner().accessToken, {
      code: nextCode('else'),
      kind: 'fixed',
      amountMinor: 100,
      restaurantId: secondRestaurant,
    });
    const notYet = await coupon(admin().accessToken, {
      code: nextCode('soon'),
      kind: 'fixed',
      amountMinor: 100,
      ...window(3_600_000, 7_200_000),
    });
    const minimum = await coupon(admin().accessToken, {
      code: nextCode('min'),
      kind: 'fixed',
      amountMinor: 100,
      minSubtotalMinor: 10_000,
    });
    const withdrawn = await coupon(admin().accessToken, {
      code: nextCode('gone'),
      kind: 'fixed',
      amountMinor: 100,
    });
    const disabled = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/coupons/${withdrawn.id}/disable`,
      headers: authHeader(admin().accessToken),
    });
    expect(disabled.statusCode, disabled.body).toBe(200);
    expect(disabled.json().disabledAt).not.toBeNull();
    for (const code of [elsewhere.code, notYet.code, minimum.code, withdrawn.code, 'NOSUCHCODE']) {
      const response = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: code });
      expect(response.statusCode, response.body).toBe(422);
      expect(response.json().code).toBe('coupon_invalid');
    }
    const both = await placeOrder(world, customer.accessToken, {
      ...ndole(),
      couponCode: minimum.code,
      usePoints: 10,
    });
    // A coupon and points may go together; the coupon is read first and this one does not apply.
    expect(both.json().code).toBe('coupon_invalid');
    for (const couponCode of [null, '', 'a b', 'x'.repeat(41)]) {
      const response = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode });
      expect(response.statusCode).toBe(400);
    }
    expect((await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor).toBe(walletBefore);
    const held = await services()
      .db.selectFrom('coupon_redemptions')
      .select('order_id')
      .where('customer_id', '=', customer.userId)
      .execute();
    expect(held).toEqual([]);
  });

  it('a per-customer limit holds; a rejected order releases its use', async () => {
    const created = await coupon(admin().accessToken, {
      code: nextCode('once'),
      kind: 'fixed',
      amountMinor: 300,
      perCustomerLimit: 1,
    });
    const customer = await fundedCustomer(world);
    const first = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: created.code });
    expect(first.statusCode, first.body).toBe(201);
    const second = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: created.code });
    expect(second.statusCode).toBe(422);
    expect(second.json().code).toBe('coupon_customer_limit');
    const rejected = await act(world, first.json().id, 'decline', owner().accessToken, {
      reason: 'closing early',
    });
    expect(rejected.statusCode, rejected.body).toBe(200);
    await until(
      () => services().loyalty.couponAdmin.redemption(first.json().id),
      (row) => row?.status === 'released',
    );
    const third = await placeOrder(world, customer.accessToken, { ...ndole(), couponCode: created.code });
    expect(third.statusCode, third.body).toBe(201);
    const roi = (await roiOf(admin().accessToken, created.id)).json();
    expect(roi).toMatchObject({ orders: 0, pending: 1, released: 1 });
    const row = await services()
      .db.selectFrom('coupons')
      .select('uses')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.uses).toBe(1);
  });
});

describe('coupons: caps under concurrency, stranded reservations', () => {
  it('50 parallel orders on a coupon limited to 10 uses: exactly 10 placed, 40 refused and charged nothing', async () => {
    const created = await coupon(admin().accessToken, {
      code: nextCode('rush'),
      kind: 'fixed',
      amountMinor: 200,
      totalLimit: 10,
    });
    const customers = await Promise.all(Array.from({ length: 10 }, () => fundedCustomer(world, 100_000n)));
    const responses = await Promise.all(
      Array.from({ length: 50 }, (_, index) =>
        placeOrder(world, customers[index % 10]!.accessToken, { ...ndole(), couponCode: created.code }),
      ),
    );
    const statuses = responses.map((response) => response.statusCode);
    expect(statuses.filter((status) => status === 201)).toHaveLength(10);
    expect(statuses.filter((status) => status === 422)).toHaveLength(40);
    for (const response of responses.filter((item) => item.statusCode === 422))
      expect(response.json().code).toBe('coupon_exhausted');
    const placed = responses
      .filter((response) => response.statusCode === 201)
      .map((response) => response.json());
    const paid = placed.reduce((sum, order) => sum + BigInt(order.pricing.totalMinor), 0n);
    let spent = 0n;
    for (const customer of customers)
      spent += 100_000n - (await account(customerWalletId(customer.userId, 'XAF')))!.availableMinor;
    // Only the 10 placed orders took money, each its own total.
    expect(spent).toBe(paid);
    const row = await services()
      .db.selectFrom('coupons')
      .select('uses')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.uses).toBe(10);
    const redemptions = await services()
      .db.selectFrom('coupon_redemptions')
      .select('order_id')
      .where('coupon_id', '=', created.id)
      .execute();
    expect(redemptions.map((item) => item.order_id).sort()).toEqual(placed.map((order) => order.id).sort());
  });

  it('a reservation whose order never existed is released by the sweep (once); a placed order’s is kept', async () => {
    const created = await coupon(admin().accessToken, {
      code: nextCode('lost'),
      kind: 'fixed',
      amountMinor: 100,
      totalLimit: 1,
    });
    const customer = await fundedCustomer(world);
    const orderId = randomUUID();
    const reservation = {
      couponId: created.id,
      orderId,
      customerId: customer.userId,
      restaurantId: world.restaurantId,
      discountMinor: 100n,
      subtotalMinor: 2_500n,
      totalMinor: 3_000n,
      at: new Date(),
    };
    const port = services().loyalty.coupons;
    expect(await port.reserve(reservation)).toEqual({ reserved: true });
    // A retried placement of the same order answers the same reservation; another order finds the cap.
    expect(await port.reserve(reservation)).toEqual({ reserved: true });
    expect(await port.reserve({ ...reservation, orderId: randomUUID() })).toMatchObject({
      reserved: false,
      code: 'coupon_exhausted',
    });
    const coupons = services().loyalty.couponAdmin;
    expect(await coupons.sweepStranded()).toBe(0); // too recent to judge
    expect(await coupons.sweepStranded(new Date(Date.now() + 11 * 60_000))).toBe(1);
    expect(await coupons.sweepStranded(new Date(Date.now() + 11 * 60_000))).toBe(0);
    expect((await coupons.redemption(orderId))!.status).toBe('released');
    const row = await services()
      .db.selectFrom('coupons')
      .select('uses')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow();
    expect(row.uses).toBe(0);
  });
});
