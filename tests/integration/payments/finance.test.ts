import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import {
  customerWalletId,
  orderEscrowId,
  providerClearingId,
  restaurantPayableId,
  worldId,
} from '../../../ledger/rules/index.js';
import { MAGIC_NUMBERS, SIMULATOR_CREDENTIALS } from '../../../src/modules/payments/simulators/index.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, topUp, until, wallet } from './helpers.js';

let world: OrderWorld;
const since = new Date(Date.now() - 60_000).toISOString();

beforeAll(async () => {
  world = await listeningPaymentsWorld();
});
afterAll(async () => world?.testApp.close());

const admin = () => authHeader(world.actors.admin.accessToken);
const until_ = () => new Date(Date.now() + 60_000).toISOString();

async function deliveredOrder(customerToken: string) {
  const placed = await placeOrder(world, customerToken, {
    items: [{ itemId: world.ndoleId, quantity: 1 }],
    tipMinor: 100,
  });
  expect(placed.statusCode, placed.body).toBe(201);
  const order = placed.json();
  const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  await act(world, order.id, 'prepare', world.actors.owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', world.actors.owner.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  expect(
    (await act(world, order.id, 'deliver', world.driver.accessToken, { deliveryPin: order.deliveryPin }))
      .statusCode,
  ).toBe(200);
  // Released when the settlement chain closed the escrow (the settlement row is written just before it).
  await until(
    () => world.testApp.services.ledger.account(orderEscrowId(order.id, 'XAF')),
    (account) => account?.closed === true,
  );
  return order;
}

describe('commission, disputes and reports', () => {
  it("an audited admin override sets the restaurant's commission; a dispute after release is refunded from the restaurant's share", async () => {
    const override = await world.testApp.app.inject({
      method: 'PUT',
      url: `/v1/admin/restaurants/${world.restaurantId}/commission`,
      headers: admin(),
      payload: { rate: '0.08', reason: 'launch partner' },
    });
    expect(override.statusCode, override.body).toBe(204);
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .selectAll()
      .where('action', '=', 'commission.override')
      .execute();
    expect(audit).toHaveLength(1);
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await world.testApp.services.ledger.submit([
      {
        id: `fund:${customer.userId}`,
        debitAccountId: worldId('XAF'),
        creditAccountId: customerWalletId(customer.userId, 'XAF'),
        amountMinor: 30_000n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    const payableBefore =
      (await world.testApp.services.ledger.account(restaurantPayableId(world.restaurantId, 'XAF')))
        ?.availableMinor ?? 0n;
    const order = await deliveredOrder(customer.accessToken);
    const payableAfter = (await world.testApp.services.ledger.account(
      restaurantPayableId(world.restaurantId, 'XAF'),
    ))!.availableMinor;
    expect(payableAfter - payableBefore).toBe(2_500n - 200n); // 8 % of 2 500

    const balance = (await wallet(world.testApp, customer.accessToken)).balanceMinor;
    await act(world, order.id, 'dispute', customer.accessToken, { reason: 'cold' });
    const resolved = await act(world, order.id, 'resolve', world.support.accessToken, {
      refundMinor: 1_000,
      note: 'half back',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === balance + 1_000,
    );
    expect(
      (await world.testApp.services.ledger.account(restaurantPayableId(world.restaurantId, 'XAF')))!
        .availableMinor,
    ).toBe(payableAfter - 1_000n);

    const from = since;
    const revenue = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/reports/restaurants/${world.restaurantId}/revenue?from=${from}&to=${until_()}`,
      headers: authHeader(world.actors.owner.accessToken),
    });
    expect(revenue.statusCode, revenue.body).toBe(200);
    expect(revenue.json()).toMatchObject({
      orders: 1,
      grossMinor: 2_500,
      commissionMinor: 200,
      netMinor: 2_300,
      refundsMinor: 1_000,
    });
    expect(revenue.json().byTier).toEqual([expect.objectContaining({ tier: 'override', rate: '0.08' })]);
    const stranger = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/reports/restaurants/${world.restaurantId}/revenue?from=${from}&to=${until_()}`,
      headers: authHeader(customer.accessToken),
    });
    expect(stranger.statusCode).toBe(403);

    const earnings = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/reports/drivers/me/earnings?period=week&from=${from}&to=${until_()}`,
      headers: authHeader(world.driver.accessToken),
    });
    expect(earnings.statusCode, earnings.body).toBe(200);
    expect(earnings.json().buckets).toEqual([expect.objectContaining({ deliveries: 1, tipsMinor: 100 })]);

    const tax = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reports/tax.csv?from=${from}&to=${until_()}`,
      headers: admin(),
    });
    expect(tax.statusCode).toBe(200);
    expect(tax.headers['content-type']).toContain('text/csv');
    // A byte order mark, so a spreadsheet reads UTF-8; a file name for the download.
    expect(tax.body.split('\r\n')[0]).toBe(
      '\uFEFFday,orders,food_sales_minor,tax_collected_minor,commission_minor',
    );
    expect(tax.headers['content-disposition']).toMatch(
      /^attachment; filename="tax-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"$/,
    );
    const semicolon = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reports/tax.csv?from=${from}&to=${until_()}&delimiter=semicolon`,
      headers: admin(),
    });
    const [header, firstDay] = semicolon.body.split('\r\n');
    expect(header).toBe('\uFEFFday;orders;food_sales_minor;tax_collected_minor;commission_minor');
    expect(firstDay!.split(';')).toHaveLength(5);
    const platform = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reports/platform-revenue?from=${from}&to=${until_()}`,
      headers: admin(),
    });
    expect(platform.json()).toMatchObject({ orders: 1, commissionMinor: 200 });
    const badPeriod = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reports/platform-revenue?from=${until_()}&to=${from}`,
      headers: admin(),
    });
    expect(badPeriod.statusCode).toBe(422);
  });
});

describe('reconciliation exceptions', () => {
  it('money the provider collected with no record of ours is MISSING_IN_LEDGER; resolving books a corrective transfer once; CSV export', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    expect(
      (await topUp(world.testApp, customer.accessToken, 4_000, MAGIC_NUMBERS.MTN.succeed)).statusCode,
    ).toBe(202);
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 4_000,
    );
    // A collection made behind our back (e.g. from the provider's dashboard).
    const simulators = world.testApp.services.payments.providers.simulators!;
    const token = (await (
      await fetch(`${simulators.campayUrl}/token/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          username: SIMULATOR_CREDENTIALS.campay.username,
          password: SIMULATOR_CREDENTIALS.campay.password,
        }),
      })
    ).json()) as { token: string };
    const stray = (await (
      await fetch(`${simulators.campayUrl}/collect/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Token ${token.token}` },
        body: JSON.stringify({
          amount: '1500',
          currency: 'XAF',
          from: '237670088801',
          description: 'stray',
          external_reference: crypto.randomUUID(),
        }),
      })
    ).json()) as { reference: string };
    await until(
      async () => simulators.campay.engine.get(stray.reference)?.status,
      (status) => status === 'SUCCESSFUL',
    );

    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'campay', from: since, to: until_() },
    });
    expect(run.statusCode, run.body).toBe(201);
    const body = run.json();
    expect(body.counts.MISSING_IN_LEDGER).toBe(1);
    expect(body.items).toEqual([
      expect.objectContaining({
        status: 'MISSING_IN_LEDGER',
        providerReference: stray.reference,
        providerAmountMinor: 1_500,
      }),
    ]);
    const itemNo = body.items[0].itemNo as number;

    const clearing = providerClearingId('campay', 'XAF');
    const before = (await world.testApp.services.ledger.account(clearing))!;
    const resolved = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/reconciliation/runs/${body.runId}/items/${itemNo}/resolve`,
      headers: admin(),
      payload: { reason: 'dashboard collection, customer identified' },
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect(resolved.json().resolutionTransferId).toBe(`recon:${body.runId}:${itemNo}`);
    const after = (await world.testApp.services.ledger.account(clearing))!;
    expect(after.debitsPosted - before.debitsPosted).toBe(1_500n);
    const again = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/reconciliation/runs/${body.runId}/items/${itemNo}/resolve`,
      headers: admin(),
      payload: { reason: 'twice' },
    });
    expect(again.statusCode).toBe(409);

    const matched = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reconciliation/runs/${body.runId}`,
      headers: admin(),
    });
    expect(matched.json().items.map((item: { status: string }) => item.status)).toContain('MATCHED');
    const matchedNo = matched
      .json()
      .items.find((item: { status: string }) => item.status === 'MATCHED').itemNo;
    const nothing = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/reconciliation/runs/${body.runId}/items/${matchedNo}/resolve`,
      headers: admin(),
      payload: { reason: 'nothing' },
    });
    expect(nothing.statusCode).toBe(409);
    // An item number past the column's range is a 400, not PostgreSQL's overflow as a 500 (fuzz-found).
    const huge = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/reconciliation/runs/${body.runId}/items/1e+308/resolve`,
      headers: admin(),
      payload: { reason: 'overflow' },
    });
    expect(huge.statusCode, huge.body).toBe(400);

    const csv = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/reconciliation/runs/${body.runId}/export.csv`,
      headers: admin(),
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.body.startsWith('\uFEFFitem_no,status,')).toBe(true);
    expect(csv.headers['content-disposition']).toBe(
      `attachment; filename="reconciliation-${body.runId}.csv"`,
    );
    expect(csv.body).toContain('MISSING_IN_LEDGER');
    expect(csv.body.trim().split('\r\n').length).toBe(1 + matched.json().items.length);
    const bad = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'campay', from: until_(), to: since },
    });
    expect(bad.statusCode).toBe(422);
    const customerTry = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: authHeader(customer.accessToken),
      payload: { provider: 'campay', from: since, to: until_() },
    });
    expect(customerTry.statusCode).toBe(403);
  });
});

describe('reconciliation without a statement API (MTN MoMo)', () => {
  it('re-reads each of our transactions by id: a top-up served by the fallback is MATCHED', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    expect(
      (await topUp(world.testApp, customer.accessToken, 3_000, MAGIC_NUMBERS.MTN.primaryServerError))
        .statusCode,
    ).toBe(202);
    await until(
      () => wallet(world.testApp, customer.accessToken),
      (w) => w.balanceMinor === 3_000,
    );
    const run = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: admin(),
      payload: { provider: 'mtn_momo', from: since, to: until_() },
    });
    expect(run.statusCode, run.body).toBe(201);
    expect(run.json().counts).toEqual({ MATCHED: 1 });
  });
});

describe('the payment rate-limit tier', () => {
  it('a fourth Mobile Money order in the window is 429; wallet orders are not on the payment tier', async () => {
    const { orderWorld } = await import('../orders/helpers.js');
    const world = await orderWorld({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_PAYMENT_MAX: '3',
      RATE_LIMIT_MAX_REQUESTS: '1000',
      ORDERS_PAYMENT_PORT: 'ledger',
      PAYMENT_SIMULATORS: 'true',
    });
    try {
      const customer = await createUser(world.testApp, { roles: ['customer'] });
      const juice = { items: [{ itemId: world.jusId, quantity: 1 }], tipMinor: 0 };
      const momo = { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever };
      const codes: number[] = [];
      for (let attempt = 0; attempt < 4; attempt += 1)
        codes.push((await placeOrder(world, customer.accessToken, { ...juice, payment: momo })).statusCode);
      expect(codes).toEqual([201, 201, 201, 429]);
      const limited = await placeOrder(world, customer.accessToken, { ...juice, payment: momo });
      expect(limited.headers['content-type']).toContain('application/problem+json');
      // The same customer may still pay from the wallet (here an empty one: a failed payment, 402, not a 429).
      for (let attempt = 0; attempt < 4; attempt += 1)
        expect((await placeOrder(world, customer.accessToken, juice)).statusCode).toBe(402);
    } finally {
      await world.testApp.close();
    }
  });

  it('a fourth top-up in the window is 429 problem+json (RATE_LIMIT_PAYMENT_MAX=3)', async () => {
    const { paymentsTestApp } = await import('./helpers.js');
    const limited = await paymentsTestApp({
      RATE_LIMIT_ENABLED: 'true',
      RATE_LIMIT_PAYMENT_MAX: '3',
      RATE_LIMIT_MAX_REQUESTS: '1000',
    });
    try {
      const customer = await createUser(limited, { roles: ['customer'] });
      const codes: number[] = [];
      for (let attempt = 0; attempt < 4; attempt += 1)
        codes.push(
          (await topUp(limited, customer.accessToken, 1_000, MAGIC_NUMBERS.MTN.pendingForever, key()))
            .statusCode,
        );
      expect(codes).toEqual([202, 202, 202, 429]);
      const other = await createUser(limited, { roles: ['customer'] });
      expect(
        (await topUp(limited, other.accessToken, 1_000, MAGIC_NUMBERS.MTN.pendingForever)).statusCode,
      ).toBe(202); // per user
      // Reads are not on the payment tier.
      expect(
        (
          await limited.app.inject({
            method: 'GET',
            url: '/v1/wallet',
            headers: authHeader(customer.accessToken),
          })
        ).statusCode,
      ).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("admins' lists: payouts waiting by status, reconciliation runs", () => {
  const get = (url: string, headers = admin()) => world.testApp.app.inject({ method: 'GET', url, headers });

  it('pages the payouts of one status oldest change first, and the runs newest first, by cursor', async () => {
    // Three payouts waiting for approval, written as rows (the list reads rows; the money path
    // that requests them is tested in journey.test.ts); one approved that must not be listed.
    const db = world.testApp.services.runtime.database.db;
    const base = Date.parse('2020-01-01T00:00:00Z');
    const ids: string[] = [randomUUID(), randomUUID(), randomUUID()];
    const row = (payoutId: string, minutes: number, status: string) => ({
      payout_id: payoutId,
      payee_kind: 'driver',
      payee_id: world.driver.userId,
      requested_by: world.driver.userId,
      amount_minor: 1_000 + minutes,
      currency: 'XAF',
      phone: '[redacted]',
      status,
      updated_at: new Date(base + minutes * 60_000),
    });
    await db
      .insertInto('payouts' as never)
      .values([
        row(ids[2]!, 3, 'REQUESTED'),
        row(ids[0]!, 1, 'REQUESTED'),
        row(ids[1]!, 2, 'REQUESTED'),
        row(randomUUID(), 0, 'APPROVED'),
      ] as never)
      .execute();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await get(
        `/v1/admin/payouts?status=REQUESTED&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
      );
      expect(page.statusCode, page.body).toBe(200);
      seen.push(...page.json().items.map((item: { payoutId: string }) => item.payoutId));
      cursor = page.json().nextCursor;
    } while (cursor !== null);
    expect(seen.filter((id) => ids.includes(id))).toEqual(ids);
    expect(seen.slice(0, 3)).toEqual(ids); // the oldest first, before anything requested today

    // The runs the tests above made, newest first; one provider's alone; pages of one.
    const all = await get('/v1/admin/reconciliation/runs');
    expect(all.statusCode, all.body).toBe(200);
    const runs = all.json().items as { runId: string; provider: string; createdAt: string }[];
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect([...runs].sort((a, b) => b.createdAt.localeCompare(a.createdAt))).toEqual(runs);
    const mtn = (await get('/v1/admin/reconciliation/runs?provider=mtn_momo')).json().items;
    expect(mtn.length).toBeGreaterThanOrEqual(1);
    expect(mtn.every((run: { provider: string }) => run.provider === 'mtn_momo')).toBe(true);
    const first = (await get('/v1/admin/reconciliation/runs?limit=1')).json();
    expect(first.items.map((run: { runId: string }) => run.runId)).toEqual([runs[0]!.runId]);
    const second = (await get(`/v1/admin/reconciliation/runs?limit=1&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((run: { runId: string }) => run.runId)).toEqual([runs[1]!.runId]);
  });

  it('a bad status, cursor or limit is a problem; only finance admins read the lists', async () => {
    for (const url of [
      '/v1/admin/payouts',
      '/v1/admin/payouts?status=LOST',
      '/v1/admin/payouts?status=REQUESTED&cursor=bm9wZQ',
      '/v1/admin/payouts?status=REQUESTED&limit=1000',
      '/v1/admin/reconciliation/runs?cursor=%00',
      '/v1/admin/reconciliation/runs?provider=DROP%20TABLE',
      '/v1/admin/reconciliation/runs?limit=0',
    ]) {
      const refused = await get(url);
      expect(refused.statusCode, url).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    for (const token of [world.actors.customer.accessToken, world.driver.accessToken]) {
      expect((await get('/v1/admin/payouts?status=REQUESTED', authHeader(token))).statusCode).toBe(403);
      expect((await get('/v1/admin/reconciliation/runs', authHeader(token))).statusCode).toBe(403);
    }
  });
});
