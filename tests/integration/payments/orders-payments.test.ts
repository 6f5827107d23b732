import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  restaurantPayableId,
  worldId,
} from '../../../ledger/rules/index.js';
import { decodePosition } from '../../../src/eventstore/position.js';
import { orderStream } from '../../../src/modules/orders/index.js';
import { doualaPeriods } from '../../../src/modules/payments/ids.js';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import { WALLET_CATEGORIES } from '../../../src/modules/payments/wallet-categories.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { act, orderBody, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, until, wallet } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  // Cameroon's VAT, so that the tax leg of a wallet payment is exercised.
  world = await listeningPaymentsWorld({ TAX_RATE_PERCENT: '19.25' });
});
afterAll(async () => world?.testApp.close());

const juiceOnly = () => ({ items: [{ itemId: world.jusId, quantity: 1 }], tipMinor: 0 });

/**
 * The order status a placement answered: a wallet that cannot pay answers 402 problem+json naming
 * the order it left in PAYMENT_FAILED; anything else is the order itself (201).
 */
function placedStatus(response: { statusCode: number; json(): Record<string, unknown> }): string {
  if (response.statusCode === 402) {
    expect(response.json()).toMatchObject({ orderStatus: 'PAYMENT_FAILED', orderId: expect.any(String) });
    return 'PAYMENT_FAILED';
  }
  return response.statusCode === 201 ? (response.json().status as string) : `HTTP ${response.statusCode}`;
}
let funding = 0;

/** Funds a wallet straight from the outside world (a test shortcut for a Mobile Money top-up). */
async function fund(userId: string, amountMinor: bigint): Promise<void> {
  funding += 1;
  const [outcome] = await world.testApp.services.ledger.submit([
    {
      id: `test-fund:${userId}:${funding}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(userId, 'XAF'),
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcome!.result).toBe('ok');
}

async function escrowOf(orderId: string) {
  return world.testApp.services.ledger.account(orderEscrowId(orderId, 'XAF'));
}

describe('orders paid from the wallet and by Mobile Money', () => {
  it('50 orders paid in parallel from one wallet that can afford 10: exactly 10 succeed, the balance never goes negative', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    // The price of one juice order, without paying for it (a Mobile Money number that never answers).
    const probe = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever },
    });
    expect(probe.statusCode, probe.body).toBe(201);
    const total = probe.json().pricing.totalMinor as number;
    await fund(customer.userId, BigInt(total * 10));

    const results = await Promise.all(
      Array.from({ length: 50 }, () => placeOrder(world, customer.accessToken, juiceOnly())),
    );
    const statuses = results.map(placedStatus);
    expect(statuses.filter((status) => status === 'PLACED')).toHaveLength(10);
    expect(statuses.filter((status) => status === 'PAYMENT_FAILED')).toHaveLength(40);
    const account = await world.testApp.services.ledger.account(customerWalletId(customer.userId, 'XAF'));
    expect(account!.creditsPosted - account!.debitsPosted - account!.debitsPending).toBe(0n);
    expect(account!.debitsPosted).toBe(BigInt(total * 10));
    const summary = await wallet(world.testApp, customer.accessToken);
    expect(summary.balanceMinor).toBe(0);
    // The spending limit counted only the ten that were paid.
    const limits = (
      await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/wallet',
        headers: authHeader(customer.accessToken),
      })
    ).json().limits;
    expect(limits.spentTodayMinor).toBe(total * 10);
  });

  it('a wallet order is paid before it is stored: created and paid (or failed) in one append', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const probe = await placeOrder(world, customer.accessToken, juiceOnly());
    expect(placedStatus(probe)).toBe('PAYMENT_FAILED'); // an empty wallet
    const failedId = probe.json().orderId as string;
    const total = (await world.testApp.services.orders.orders.load(failedId)).state.order!.pricing.totalMinor;
    await fund(customer.userId, BigInt(total));
    const paid = await placeOrder(world, customer.accessToken, juiceOnly());
    expect(paid.statusCode, paid.body).toBe(201);
    expect(paid.json().status).toBe('PLACED');
    for (const [orderId, second] of [
      [failedId, 'OrderPaymentFailed'],
      [paid.json().id as string, 'OrderPaymentCaptured'],
    ] as const) {
      const events = await world.testApp.services.eventStore.readStream(orderStream(orderId));
      expect(events.map((event) => event.type)).toEqual(['OrderCreated', second]);
      // One append: one transaction wrote both (a position's major part is its transaction id).
      expect(decodePosition(events[1]!.position).major).toBe(decodePosition(events[0]!.position).major);
    }
    expect((await escrowOf(paid.json().id))!.creditsPosted).toBe(BigInt(total));
    expect(await escrowOf(failedId)).toBeNull();
  });

  it('a wallet that cannot pay answers 402 problem+json naming the order (PAYMENT_FAILED), and a replay answers the same', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 100n);
    const stockBefore = await world.testApp.services.db
      .selectFrom('menu_items')
      .select('stock')
      .where('id', '=', world.jusId)
      .executeTakeFirst();
    const place = () =>
      world.testApp.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': 'wallet-402-replay-01' },
        payload: orderBody(world, juiceOnly()),
      });
    const refused = await place();
    expect(refused.statusCode, refused.body).toBe(402);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = refused.json();
    expect(problem).toMatchObject({
      status: 402,
      code: 'insufficient_funds',
      orderStatus: 'PAYMENT_FAILED',
      orderId: expect.any(String),
      type: expect.stringMatching(/\/problems\/insufficient_funds$/),
    });
    expect(problem.order).toBe(`/v1/orders/${problem.orderId}`);
    // The order it names exists, failed, for its customer; nothing was taken, the stock is back.
    const order = await world.testApp.app.inject({
      method: 'GET',
      url: problem.order,
      headers: authHeader(customer.accessToken),
    });
    expect(order.statusCode).toBe(200);
    expect(order.json()).toMatchObject({
      id: problem.orderId,
      status: 'PAYMENT_FAILED',
      reason: 'insufficient_funds',
    });
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(100);
    expect(await escrowOf(problem.orderId)).toBeNull();
    const stockAfter = await world.testApp.services.db
      .selectFrom('menu_items')
      .select('stock')
      .where('id', '=', world.jusId)
      .executeTakeFirst();
    expect(stockAfter).toEqual(stockBefore);
    // The same request again: the same refusal for the same order, marked as a replay.
    const replayed = await place();
    expect(replayed.statusCode).toBe(402);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toMatchObject({ code: 'insufficient_funds', orderId: problem.orderId });
    const history = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/orders',
      headers: authHeader(customer.accessToken),
    });
    expect(history.json().items.filter((item: { id: string }) => item.id === problem.orderId)).toHaveLength(
      1,
    );
  });

  it('insufficient funds through the wallet payment route is 402 naming the order and changes nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const waiting = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever },
    });
    const orderId = waiting.json().id as string;
    await fund(customer.userId, 100n);
    const refused = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/payments',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { orderId },
    });
    expect(refused.statusCode).toBe(402);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({
      code: 'insufficient_funds',
      orderId,
      orderStatus: 'PENDING_PAYMENT',
    });
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(100);
    expect(await escrowOf(orderId)).toBeNull();
    // Topped up, the same order can now be paid from the wallet.
    await fund(customer.userId, BigInt(waiting.json().pricing.totalMinor));
    const paid = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/payments',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { orderId },
    });
    expect(paid.statusCode, paid.body).toBe(200);
    expect((await escrowOf(orderId))!.creditsPosted).toBe(BigInt(waiting.json().pricing.totalMinor));
  });

  it('a Mobile Money order is captured into escrow when the provider confirms, then placed', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const placed = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'ORANGE', phone: MAGIC_NUMBERS.ORANGE.succeed },
    });
    expect(placed.statusCode, placed.body).toBe(201);
    expect(placed.json().status).toBe('PENDING_PAYMENT');
    const orderId = placed.json().id as string;
    await until(
      async () => (await world.testApp.services.orders.orders.load(orderId)).state.status,
      (status) => status === 'PLACED',
    );
    expect((await escrowOf(orderId))!.creditsPosted).toBe(BigInt(placed.json().pricing.totalMinor));
  });

  it("a Mobile Money order's answer says what the customer must do next: the payment id and how to approve it", async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const phone = MAGIC_NUMBERS.MTN.pendingForever;
    const placed = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/orders',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key(), 'accept-language': 'fr' },
      payload: orderBody(world, {
        ...juiceOnly(),
        payment: { kind: 'mobile_money', provider: 'MTN', phone },
      }),
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.status).toBe('PENDING_PAYMENT');
    expect(order.payment).toMatchObject({
      kind: 'mobile_money',
      provider: 'MTN',
      id: expect.any(String),
      status: 'PENDING',
      nextStep: {
        action: expect.stringMatching(/^(dial_ussd|approve_on_phone)$/),
        language: 'fr',
        paymentUrl: `/v1/payments/${order.payment.id}`,
      },
    });
    expect(order.payment.nextStep.instructions).toContain(`…${phone.slice(-2)}`);
    expect(order.payment.nextStep.instructions).toMatch(/code PIN/);
    if (order.payment.ussdCode !== null)
      expect(order.payment.nextStep.instructions).toContain(order.payment.ussdCode);
    // The payment it names is the customer's, readable at the URL it gives.
    const payment = await world.testApp.app.inject({
      method: 'GET',
      url: order.payment.nextStep.paymentUrl,
      headers: authHeader(customer.accessToken),
    });
    expect(payment.statusCode, payment.body).toBe(200);
    expect(payment.json()).toMatchObject({
      paymentId: order.payment.id,
      orderId: order.id,
      status: 'PENDING',
    });
    // Reading the order later says the same, in English by default.
    const read = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/orders/${order.id}`,
      headers: authHeader(customer.accessToken),
    });
    expect(read.json().payment).toMatchObject({ id: order.payment.id, nextStep: { language: 'en' } });
    expect(read.json().payment.nextStep.instructions).toMatch(/with your PIN/);
    // The restaurant sees how the order is paid, not the customer's payment.
    const owner = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/orders/${order.id}`,
      headers: authHeader(world.actors.owner.accessToken),
    });
    if (owner.statusCode === 200) expect(owner.json().payment.id).toBeUndefined();
  });

  it('a Mobile Money failure fails the order and moves no money', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const placed = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.fail },
    });
    const orderId = placed.json().id as string;
    await until(
      async () => (await world.testApp.services.orders.orders.load(orderId)).state.status,
      (status) => status === 'PAYMENT_FAILED',
    );
    expect(await escrowOf(orderId)).toBeNull();
  });

  it('a declined order is refunded to the wallet at once, in full, and its escrow ends at zero', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    const placed = await placeOrder(world, customer.accessToken, juiceOnly());
    const orderId = placed.json().id as string;
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(
      50_000 - placed.json().pricing.totalMinor,
    );
    expect(
      (await act(world, orderId, 'decline', world.actors.owner.accessToken, { reason: 'closing early' }))
        .statusCode,
    ).toBe(200);
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 50_000,
    );
    const escrow = await until(
      () => escrowOf(orderId),
      (account) => account?.closed === true,
    );
    expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
    const statement = await until(
      async () =>
        (
          await world.testApp.app.inject({
            method: 'GET',
            url: '/v1/wallet/transactions?category=refunds',
            headers: authHeader(customer.accessToken),
          })
        ).json(),
      (page: { items: unknown[] }) => page.items.length === 1,
    );
    expect(statement.items[0]).toMatchObject({
      category: 'refunds',
      direction: 'in',
      amountMinor: placed.json().pricing.totalMinor,
      orderId,
    });
  });

  it('a late cancellation refunds all but the fee, which goes to the restaurant; the escrow ends at zero', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    const placed = await placeOrder(world, customer.accessToken, juiceOnly());
    const orderId = placed.json().id as string;
    const payableBefore =
      (await world.testApp.services.ledger.account(restaurantPayableId(world.restaurantId, 'XAF')))
        ?.creditsPosted ?? 0n;
    await act(world, orderId, 'accept', world.actors.owner.accessToken, { preparationMinutes: 10 });
    const cancelled = await act(world, orderId, 'cancel', customer.accessToken, { reason: 'too slow' });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    const { refundMinor, cancellationFeeMinor } = cancelled.json();
    expect(cancellationFeeMinor).toBeGreaterThan(0);
    await until(
      () => escrowOf(orderId),
      (account) => account?.closed === true,
    );
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(
      50_000 - placed.json().pricing.totalMinor + refundMinor,
    );
    const payableAfter = (await world.testApp.services.ledger.account(
      restaurantPayableId(world.restaurantId, 'XAF'),
    ))!.creditsPosted;
    expect(payableAfter - payableBefore).toBe(BigInt(cancellationFeeMinor));
  });

  it('the wallet statement shows categories and pages with a cursor', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    await placeOrder(world, customer.accessToken, { ...juiceOnly(), tipMinor: 300 });
    const page = await until(
      async () =>
        (
          await world.testApp.app.inject({
            method: 'GET',
            url: '/v1/wallet/transactions?limit=2',
            headers: authHeader(customer.accessToken),
          })
        ).json(),
      (body: { items: unknown[]; nextCursor: string | null }) => body.items.length === 2,
    );
    expect(page.nextCursor).not.toBeNull();
    const rest = (
      await world.testApp.app.inject({
        method: 'GET',
        url: `/v1/wallet/transactions?limit=10&cursor=${page.nextCursor}`,
        headers: authHeader(customer.accessToken),
      })
    ).json();
    const categories = [...page.items, ...rest.items]
      .map((item: { category: string }) => item.category)
      .sort();
    expect(categories).toEqual(['delivery', 'food', 'other', 'taxes', 'tips']); // 'other': the test funding
    const bad = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/transactions?cursor=nonsense',
      headers: authHeader(customer.accessToken),
    });
    expect(bad.statusCode).toBe(400);
  });

  it('every movement is filed by its ledger code: tax apart from food, a withdrawal as a withdrawal, and each category filter finds exactly its own', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'], phone: '+237690066611' });
    await fund(customer.userId, 50_000n);
    // CamPay's float, so that the withdrawal can leave.
    const [float] = await world.testApp.services.ledger.submit([
      {
        id: `test-float:${customer.userId}`,
        debitAccountId: providerClearingId('campay', 'XAF'),
        creditAccountId: worldId('XAF'),
        amountMinor: 10_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(float!.result).toBe('ok');
    const placed = await placeOrder(world, customer.accessToken, { ...juiceOnly(), tipMinor: 300 });
    expect(placed.statusCode, placed.body).toBe(201);
    const pricing = placed.json().pricing as Record<string, number>;
    const withdrawn = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 1_000 },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(201);
    type Item = { transferId: string; category: string; direction: string; amountMinor: number };
    const read = async (query: string): Promise<Item[]> =>
      (
        await world.testApp.app.inject({
          method: 'GET',
          url: `/v1/wallet/transactions?limit=100${query}`,
          headers: authHeader(customer.accessToken),
        })
      ).json().items;
    const expected = [
      ['other', 'in', 50_000], // the test's funding, an adjustment
      ['food', 'out', pricing.subtotalMinor! - pricing.discountMinor!],
      ['taxes', 'out', pricing.taxMinor!],
      ['delivery', 'out', pricing.deliveryFeeMinor!],
      ['tips', 'out', 300],
      ['withdrawals', 'out', 1_000],
    ];
    expect(pricing.taxMinor).toBeGreaterThan(0);
    const all = await until(
      () => read(''),
      (items) => items.length === expected.length,
    );
    const sorted = (rows: unknown[][]) => rows.map((row) => JSON.stringify(row)).sort();
    expect(sorted(all.map((item) => [item.category, item.direction, item.amountMinor]))).toEqual(
      sorted(expected),
    );
    for (const category of WALLET_CATEGORIES) {
      const filtered = await read(`&category=${category}`);
      expect(filtered.map((item) => item.transferId).sort(), category).toEqual(
        all
          .filter((item) => item.category === category)
          .map((item) => item.transferId)
          .sort(),
      );
    }
    const unknown = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/wallet/transactions?category=groceries',
      headers: authHeader(customer.accessToken),
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.headers['content-type']).toMatch(/problem\+json/);
  });

  it('spending controls: a blocked category refuses the payment and counts nothing; lifting it lets the order through', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    const settings = (payload: unknown) =>
      world.testApp.app.inject({
        method: 'PUT',
        url: '/v1/wallet/settings',
        headers: authHeader(customer.accessToken),
        payload: payload as Record<string, unknown>,
      });
    const blocked = await settings({ categoryControls: { tips: { blocked: true } } });
    expect(blocked.statusCode, blocked.body).toBe(200);
    expect(blocked.json().categoryControls).toEqual([
      { category: 'tips', blocked: true, monthlyLimitMinor: null, spentThisMonthMinor: 0 },
    ]);
    const before = await wallet(world.testApp, customer.accessToken);
    const refused = await placeOrder(world, customer.accessToken, { ...juiceOnly(), tipMinor: 200 });
    expect(refused.statusCode, refused.body).toBe(402);
    expect(refused.json()).toMatchObject({ code: 'category_restricted', orderStatus: 'PAYMENT_FAILED' });
    const after = await wallet(world.testApp, customer.accessToken);
    expect(after.balanceMinor).toBe(before.balanceMinor);
    expect(after.limits.spentTodayMinor).toBe(before.limits.spentTodayMinor);
    // Without a tip the same order is food, taxes and delivery only: paid.
    expect(placedStatus(await placeOrder(world, customer.accessToken, juiceOnly()))).toBe('PLACED');
    expect(
      (await settings({ categoryControls: { tips: { blocked: false } } })).json().categoryControls,
    ).toEqual([]);
    expect(
      placedStatus(await placeOrder(world, customer.accessToken, { ...juiceOnly(), tipMinor: 200 })),
    ).toBe('PLACED');
  });

  it('spending controls: a monthly cap on food lets exactly as many parallel orders through as it allows, and counts only those', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 200_000n);
    const probe = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever },
    });
    const pricing = probe.json().pricing as Record<string, number>;
    const food = pricing.subtotalMinor! - pricing.discountMinor!;
    const capped = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { categoryControls: { food: { monthlyLimitMinor: food * 3 + 1 } } },
    });
    expect(capped.statusCode, capped.body).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 12 }, () => placeOrder(world, customer.accessToken, juiceOnly())),
    );
    expect(results.map(placedStatus).filter((status) => status === 'PLACED')).toHaveLength(3);
    for (const result of results.filter((response) => response.statusCode === 402))
      expect(result.json().code).toBe('category_limit_exceeded');
    const summary = await wallet(world.testApp, customer.accessToken);
    expect(summary.categoryControls).toEqual([
      { category: 'food', blocked: false, monthlyLimitMinor: food * 3 + 1, spentThisMonthMinor: food * 3 },
    ]);
    expect(summary.limits.spentThisMonthMinor).toBe(pricing.totalMinor! * 3);
    expect(summary.balanceMinor).toBe(200_000 - pricing.totalMinor! * 3);
    // Removing the cap keeps nothing behind.
    const lifted = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { categoryControls: { food: { monthlyLimitMinor: null } } },
    });
    expect(lifted.json().categoryControls).toEqual([]);
  });

  it('spending controls refuse what they cannot mean with 400 problem+json and change nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    for (const categoryControls of [
      { groceries: { blocked: true } },
      { food: { monthlyLimitMinor: -1 } },
      { food: { monthlyLimitMinor: 0 } },
      { food: { blocked: 'yes' } },
      { food: { cap: 1 } },
      { withdrawals: { blocked: true } },
      null,
    ]) {
      const response = await world.testApp.app.inject({
        method: 'PUT',
        url: '/v1/wallet/settings',
        headers: authHeader(customer.accessToken),
        payload: { categoryControls },
      });
      expect(response.statusCode, JSON.stringify(categoryControls)).toBe(400);
      expect(response.headers['content-type']).toMatch(/problem\+json/);
    }
    expect((await wallet(world.testApp, customer.accessToken)).categoryControls).toEqual([]);
  });

  it('a frozen wallet cannot pay or top up; XAF and USD wallets are separate', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    const frozen = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/wallets/${customer.userId}/freeze`,
      headers: authHeader(world.actors.admin.accessToken),
      payload: { frozen: true, reason: 'suspicious activity' },
    });
    expect(frozen.statusCode, frozen.body).toBe(200);
    expect(frozen.json().status).toBe('frozen');
    const placed = await placeOrder(world, customer.accessToken, juiceOnly());
    expect(placedStatus(placed)).toBe('PAYMENT_FAILED');
    const topUp = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/topups',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 1_000, phone: MAGIC_NUMBERS.MTN.succeed },
    });
    expect(topUp.statusCode).toBe(422);
    expect(topUp.json().code).toBe('wallet_frozen');
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(50_000);
    const usd = (
      await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/wallet?currency=USD',
        headers: authHeader(customer.accessToken),
      })
    ).json();
    expect(usd).toMatchObject({ currency: 'USD', balanceMinor: 0, status: 'active' });
  });

  it('a top-up above the daily limit is 422 and starts nothing', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const set = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { dailyLimitMinor: 5_000 },
    });
    expect(set.statusCode, set.body).toBe(200);
    const over = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/topups',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 6_000, phone: MAGIC_NUMBERS.MTN.succeed },
    });
    expect(over.statusCode).toBe(422);
    expect(over.json().code).toBe('wallet_limit_exceeded');
    const raise = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { dailyLimitMinor: 50_000_000 },
    });
    expect(raise.statusCode).toBe(422);
  });

  it('a payment counts against the day and the month together or not at all', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    const set = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { dailyLimitMinor: 20_000, monthlyLimitMinor: 20_000 },
    });
    expect(set.statusCode, set.body).toBe(200);
    const probe = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever },
    });
    const total = probe.json().pricing.totalMinor as number;
    // Earlier this month the customer spent all but (total - 1): the day has room, the month has not.
    const { db } = world.testApp.services;
    const month = doualaPeriods(new Date()).month;
    await db
      .insertInto('wallet_spending')
      .values({
        user_id: customer.userId,
        currency: 'XAF',
        period: month,
        spent_minor: BigInt(20_000 - total + 1),
      })
      .execute();
    const limits = async () =>
      (
        await world.testApp.app.inject({
          method: 'GET',
          url: '/v1/wallet',
          headers: authHeader(customer.accessToken),
        })
      ).json().limits;

    const refused = await placeOrder(world, customer.accessToken, juiceOnly());
    expect(placedStatus(refused)).toBe('PAYMENT_FAILED');
    expect(await limits()).toMatchObject({ spentTodayMinor: 0, spentThisMonthMinor: 20_000 - total + 1 });
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(50_000);

    await db
      .updateTable('wallet_spending')
      .set({ spent_minor: BigInt(20_000 - total) })
      .where('user_id', '=', customer.userId)
      .where('period', '=', month)
      .execute();
    const paid = await placeOrder(world, customer.accessToken, juiceOnly());
    expect(paid.json().status).toBe('PLACED');
    expect(await limits()).toMatchObject({ spentTodayMinor: total, spentThisMonthMinor: 20_000 });
  });

  it('30 parallel orders against a daily limit that allows 10: exactly 10 are paid and counted', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const probe = await placeOrder(world, customer.accessToken, {
      ...juiceOnly(),
      payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever },
    });
    const total = probe.json().pricing.totalMinor as number;
    await fund(customer.userId, BigInt(total * 30));
    const set = await world.testApp.app.inject({
      method: 'PUT',
      url: '/v1/wallet/settings',
      headers: authHeader(customer.accessToken),
      payload: { dailyLimitMinor: total * 10 + total - 1 },
    });
    expect(set.statusCode, set.body).toBe(200);
    const results = await Promise.all(
      Array.from({ length: 30 }, () => placeOrder(world, customer.accessToken, juiceOnly())),
    );
    const statuses = results.map(placedStatus);
    expect(statuses.filter((status) => status === 'PLACED')).toHaveLength(10);
    expect(statuses.filter((status) => status === 'PAYMENT_FAILED')).toHaveLength(20);
    const limits = (
      await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/wallet',
        headers: authHeader(customer.accessToken),
      })
    ).json().limits;
    expect(limits.spentTodayMinor).toBe(total * 10);
    expect((await wallet(world.testApp, customer.accessToken)).balanceMinor).toBe(total * 20);
  });
});
