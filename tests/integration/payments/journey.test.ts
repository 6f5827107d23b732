import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverPayableId, orderEscrowId, restaurantPayableId } from '../../../ledger/rules/index.js';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import { authHeader, withStepUp } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, topUp, until, wallet } from './helpers.js';

let world: OrderWorld;
const startedAt = new Date(Date.now() - 60_000);

/** Gives a user a Mobile Money number of their own (verified), as payouts require. */
async function setPhone(world: OrderWorld, userId: string, phone: string): Promise<void> {
  // Through the repository: the phone is stored encrypted, with its blind index.
  await world.testApp.services.identity.repository.updateUser(userId, { phone, phone_verified: true });
}

beforeAll(async () => {
  world = await listeningPaymentsWorld();
  await setPhone(world, world.actors.owner.userId, '+237670055501');
  await setPhone(world, world.driver.userId, '+237690055502');
});
afterAll(async () => world?.testApp.close());

describe('the whole money journey over HTTP against the simulators', () => {
  it('top-up → order paid from the wallet → delivered with the PIN → released → payouts → reconciliation all matched → ledger verifies', async () => {
    const { testApp, actors, driver } = world;
    const services = testApp.services;
    const customer = actors.customer;

    // 1. Top up by Mobile Money (MTN through CamPay), wait for the webhook to land.
    expect((await topUp(testApp, customer.accessToken, 20_000, MAGIC_NUMBERS.MTN.succeed)).statusCode).toBe(
      202,
    );
    await until(
      () => wallet(testApp, customer.accessToken),
      (w) => w.balanceMinor === 20_000,
    );

    // 2. Order paid from the wallet: a synchronous ledger transfer into the order's escrow.
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    expect(order.status).toBe('PLACED');
    const total = order.pricing.totalMinor as number;
    expect((await wallet(testApp, customer.accessToken)).balanceMinor).toBe(20_000 - total);
    expect(await services.payments.escrow.escrowAvailable(order.id)).toBe(BigInt(total));

    // 3. Accept, cook, claim, pick up, deliver with the customer's PIN.
    const accepted = await act(world, order.id, 'accept', actors.owner.accessToken, {
      preparationMinutes: 20,
    });
    expect(accepted.statusCode, accepted.body).toBe(200);
    await act(world, order.id, 'prepare', actors.owner.accessToken);
    expect((await act(world, order.id, 'claim', driver.accessToken)).statusCode).toBe(200);
    await act(world, order.id, 'ready', actors.owner.accessToken);
    expect(
      (await act(world, order.id, 'pickup', driver.accessToken, { pickupCode: accepted.json().pickupCode }))
        .statusCode,
    ).toBe(200);
    const delivered = await act(world, order.id, 'deliver', driver.accessToken, {
      deliveryPin: order.deliveryPin,
    });
    expect(delivered.statusCode, delivered.body).toBe(200);

    // 4. Release: the escrow ends at zero and closed; the split is exact.
    const escrow = await until(
      () => services.ledger.account(orderEscrowId(order.id, 'XAF')),
      (account) => account?.closed === true,
    );
    expect(escrow!.creditsPosted - escrow!.debitsPosted).toBe(0n);
    const restaurantShare = (await services.ledger.account(restaurantPayableId(world.restaurantId, 'XAF')))!
      .availableMinor;
    const driverShare = (await services.ledger.account(driverPayableId(driver.userId, 'XAF')))!
      .availableMinor;
    const subtotal = BigInt(order.pricing.subtotalMinor);
    expect(restaurantShare).toBe(subtotal - (subtotal * 15n) / 100n); // new restaurant: 15 %
    const distance = Math.ceil(order.pricing.distanceMetres as number);
    expect(driverShare).toBe(500n + 10n * BigInt(Math.ceil(distance / 100)) + BigInt(order.pricing.tipMinor));

    // 5. Payouts: the restaurant owner and the driver request, an admin approves with step-up.
    const adminToken = await withStepUp(testApp, actors.admin);
    const payoutIds: string[] = [];
    for (const [token, body] of [
      [
        actors.owner.accessToken,
        { payeeKind: 'restaurant', restaurantId: world.restaurantId, amountMinor: Number(restaurantShare) },
      ],
      [driver.accessToken, { payeeKind: 'driver', amountMinor: Number(driverShare) }],
    ] as const) {
      const tooMuch = await testApp.app.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: authHeader(token),
        payload: { ...body, amountMinor: body.amountMinor + 1 },
      });
      expect(tooMuch.statusCode).toBe(422);
      const requested = await testApp.app.inject({
        method: 'POST',
        url: '/v1/payouts',
        headers: { ...authHeader(token), 'idempotency-key': key() },
        payload: body,
      });
      expect(requested.statusCode, requested.body).toBe(201);
      const noStepUp = await testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/payouts/${requested.json().payoutId}/approve`,
        headers: authHeader(actors.admin.accessToken),
      });
      expect(noStepUp.statusCode).toBe(403);
      const approved = await testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/payouts/${requested.json().payoutId}/approve`,
        headers: authHeader(adminToken),
      });
      expect(approved.statusCode, approved.body).toBe(200);
      payoutIds.push(requested.json().payoutId);
    }
    for (const payoutId of payoutIds) {
      await until(
        async () =>
          (
            await testApp.app.inject({
              method: 'GET',
              url: `/v1/admin/payouts/${payoutId}`,
              headers: authHeader(adminToken),
            })
          ).json().status,
        (status) => status === 'SUCCEEDED',
      );
    }
    expect(
      (await services.ledger.account(restaurantPayableId(world.restaurantId, 'XAF')))!.availableMinor,
    ).toBe(0n);
    expect((await services.ledger.account(driverPayableId(driver.userId, 'XAF')))!.availableMinor).toBe(0n);

    // 6. Reconciliation against CamPay's statement: every line matched, no exception.
    const run = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/reconciliation/runs',
      headers: authHeader(actors.admin.accessToken),
      payload: {
        provider: 'campay',
        from: startedAt.toISOString(),
        to: new Date(Date.now() + 60_000).toISOString(),
      },
    });
    expect(run.statusCode, run.body).toBe(201);
    expect(run.json().status).toBe('completed');
    expect(run.json().counts).toEqual({ MATCHED: 3 }); // the top-up and two payouts
    expect(run.json().items).toEqual([]);

    // 7. The ledger replays from genesis and every currency sums to zero.
    const verify = await testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/ledger/verify',
      headers: authHeader(actors.admin.accessToken),
    });
    expect(verify.statusCode, verify.body).toBe(200);
    expect(verify.json().ok).toBe(true);
    const lines = verify.json().trialBalance as {
      currency: string;
      debitsPosted: number;
      creditsPosted: number;
      balanced: boolean;
    }[];
    for (const line of lines) {
      expect(line.debitsPosted, line.currency).toBe(line.creditsPosted);
      expect(line.balanced, line.currency).toBe(true);
    }
    expect(lines.find((line) => line.currency === 'XAF')!.debitsPosted).toBeGreaterThan(20_000);
  });
});
