import { fieldCipherOf } from '../../../src/platform/field-crypto.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, authHeader, getOrder, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

/**
 * Issue #15 item 15: after DELETE /v1/me the person's orders stay readable and actionable by the
 * restaurant, the driver and staff, with the shredded personal fields shown as "[redacted]".
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
});
afterAll(async () => world?.testApp.close());

async function erase(user: CreatedUser) {
  return world.testApp.app.inject({
    method: 'DELETE',
    url: '/v1/me',
    headers: authHeader(user.accessToken),
    payload: { password: user.password },
  });
}

describe('orders of an erased customer', () => {
  it('stay readable and actionable by owner, driver and staff, with personal fields redacted', async () => {
    const { owner, admin } = world.actors;
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const order = placed.json();
    const mobile = await placeOrder(world, customer.accessToken, {
      payment: { kind: 'mobile_money', provider: 'MTN', phone: '+237670000123' },
    });
    expect(mobile.statusCode, mobile.body).toBe(201);

    const accepted = await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 10 });
    expect(accepted.statusCode, accepted.body).toBe(200);
    const pickupCode = accepted.json().pickupCode as string;

    expect((await erase(customer)).statusCode).toBe(204);

    // The customer's account is gone: its token no longer reads anything.
    expect((await getOrder(world, order.id, customer.accessToken)).statusCode).toBe(401);

    for (const token of [owner.accessToken, admin.accessToken, world.support.accessToken]) {
      const read = await getOrder(world, order.id, token);
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json().delivery.text).toBe('[redacted]');
      expect(read.json().payment).toEqual({ kind: '[redacted]' });
      const readMobile = await getOrder(world, mobile.json().id, token);
      expect(readMobile.statusCode, readMobile.body).toBe(200);
      expect(JSON.stringify(readMobile.json())).not.toContain('+237670000123');
    }
    const adminView = (await getOrder(world, order.id, admin.accessToken)).json();
    expect(adminView.delivery).toEqual({ text: '[redacted]', latitude: null, longitude: null });
    expect(JSON.stringify(adminView)).not.toContain('Bonapriso');

    const prepared = await act(world, order.id, 'prepare', owner.accessToken);
    expect(prepared.statusCode, prepared.body).toBe(200);
    const claimed = await act(world, order.id, 'claim', world.driver.accessToken);
    expect(claimed.statusCode, claimed.body).toBe(200);
    expect(claimed.json().delivery.text).toBe('[redacted]');
    expect((await getOrder(world, order.id, world.driver.accessToken)).statusCode).toBe(200);
    expect((await act(world, order.id, 'ready', owner.accessToken)).statusCode).toBe(200);
    const picked = await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode });
    expect(picked.statusCode, picked.body).toBe(200);
    const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
      deliveryPin: order.deliveryPin,
    });
    expect(delivered.statusCode, delivered.body).toBe(200);
    expect(delivered.json().status).toBe('DELIVERED');

    // The mobile-money order (never paid here) can still be rejected or read by the restaurant.
    const lists = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/orders',
      headers: authHeader(admin.accessToken),
    });
    expect(lists.statusCode, lists.body).toBe(200);
  });
});

describe('GDPR export and erasure walk every context', () => {
  async function personWithData() {
    const { testApp } = world;
    const db = testApp.services.db;
    const fields = fieldCipherOf(testApp.services.runtime.config);
    const customer = await createUser(testApp, { roles: ['customer', 'driver'], email: 'walk@example.cm' });
    const placed = await placeOrder(world, customer.accessToken);
    expect(placed.statusCode, placed.body).toBe(201);
    const cart = await testApp.app.inject({
      method: 'PUT',
      url: '/v1/cart',
      headers: authHeader(customer.accessToken),
      payload: { restaurantId: world.restaurantId, items: [{ itemId: world.jusId, quantity: 2 }] },
    });
    expect(cart.statusCode, cart.body).toBe(200);
    await testApp.services.payments.wallets.ensure(customer.userId, 'XAF');
    await db
      .updateTable('wallets')
      .set({ auto_topup_phone: fields.encrypt('wallets.auto_topup_phone', customer.phone) })
      .where('user_id', '=', customer.userId)
      .execute();
    const payoutId = crypto.randomUUID();
    await db
      .insertInto('payouts')
      .values({
        payout_id: payoutId,
        payee_kind: 'driver',
        payee_id: customer.userId,
        requested_by: customer.userId,
        amount_minor: 1_000n,
        currency: 'XAF',
        phone: fields.encrypt('payouts.phone', customer.phone),
        status: 'SUCCEEDED',
      })
      .execute();
    await db
      .insertInto('restaurant_reviews')
      .values({
        restaurant_id: world.restaurantId,
        order_id: placed.json().id,
        customer_id: customer.userId,
        rating: 4,
        comment: 'Le ndolé de Mama Ngono, comme au village',
      })
      .execute();
    await db
      .updateTable('restaurants')
      .set({
        contact_phone: fields.encrypt('restaurants.contact_phone', '+237670000999'),
        contact_email: fields.encrypt('restaurants.contact_email', 'owner-walk@example.cm'),
      })
      .where('id', '=', world.restaurantId)
      .execute();
    return { customer, orderId: placed.json().id as string, payoutId };
  }

  it('exports orders, carts, wallet, payouts, reviews and messages; erases them; a second erasure changes nothing', async () => {
    const { testApp } = world;
    const db = testApp.services.db;
    const { customer, orderId, payoutId } = await personWithData();

    const exported = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me/export',
      headers: authHeader(customer.accessToken),
    });
    expect(exported.statusCode, exported.body).toBe(200);
    const data = exported.json();
    expect(data.account.phone).toBe(customer.phone);
    expect(data.orders.orders.map((order: { orderId: string }) => order.orderId)).toContain(orderId);
    expect(data.orders.orders[0].delivery.text).toContain('Bonapriso');
    expect(data.orders.carts).toHaveLength(1);
    expect(data.payments.wallets).toHaveLength(1);
    expect(data.payments.wallets[0].autoTopUp.phone).toBe(customer.phone);
    expect(data.payments.payouts.map((payout: { payoutId: string }) => payout.payoutId)).toEqual([payoutId]);
    expect(data.catalog.reviews[0].comment).toContain('ndolé');
    expect(data.notifications).toEqual({ messages: expect.any(Array) });

    expect((await erase(customer)).statusCode).toBe(204);
    const user = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', customer.userId)
      .executeTakeFirstOrThrow();
    expect(user).toMatchObject({ phone: null, email: null, name: null, status: 'deleted' });
    expect(user.erased_at).not.toBeNull();
    expect(
      await db.selectFrom('order_carts').select('id').where('owner_key', '=', customer.userId).execute(),
    ).toHaveLength(0);
    const wallet = await db
      .selectFrom('wallets')
      .selectAll()
      .where('user_id', '=', customer.userId)
      .executeTakeFirstOrThrow();
    expect(wallet).toMatchObject({ auto_topup_phone: null, auto_topup_enabled: false });
    const payout = await db
      .selectFrom('payouts')
      .selectAll()
      .where('payout_id', '=', payoutId)
      .executeTakeFirstOrThrow();
    // The money record stays; its personal field does not.
    expect(payout).toMatchObject({ phone: '[redacted]', amount_minor: 1_000n, status: 'SUCCEEDED' });
    const review = await db
      .selectFrom('restaurant_reviews')
      .selectAll()
      .where('customer_id', '=', customer.userId)
      .executeTakeFirstOrThrow();
    expect(review).toMatchObject({ comment: null, rating: 4 });
    const audit = await db
      .selectFrom('audit_logs')
      .select('new_value')
      .where('action', '=', 'account.erased')
      .where('subject_user_id', '=', customer.userId)
      .execute();
    expect(audit).toHaveLength(1);
    expect((audit[0]!.new_value as { erasedBy: string[] }).erasedBy).toEqual(
      expect.arrayContaining(['notifications', 'catalog', 'orders', 'payments', 'eventstore']),
    );

    // Retried (a second request, the sweep): nothing left to do, nothing changes, no error.
    expect((await erase(customer)).statusCode).toBe(401);
    expect(await testApp.services.identity.privacy.completeErasure(customer.userId)).toBe(false);
    for (const hook of testApp.services.platform.personalData.values())
      await hook.erase(customer.userId, { phone: customer.phone, email: null });
    expect(
      await db
        .selectFrom('audit_logs')
        .select('id')
        .where('action', '=', 'account.erased')
        .where('subject_user_id', '=', customer.userId)
        .execute(),
    ).toHaveLength(1);
    expect((await getOrder(world, orderId, world.actors.admin.accessToken)).json().delivery.text).toBe(
      '[redacted]',
    );
  });

  it('an erasure interrupted by a failing context is finished by the sweep, and retried twice it is idempotent', async () => {
    const { testApp } = world;
    const db = testApp.services.db;
    const { customer, orderId } = await personWithData();
    let failures = 1;
    const registry = testApp.services.platform.personalData;
    registry.set('flaky', {
      async erase() {
        if (failures > 0) {
          failures -= 1;
          throw new Error('the flaky context is down');
        }
      },
    });
    try {
      // The account is deleted (204); the erasure the flaky context interrupted is finished later.
      expect((await erase(customer)).statusCode).toBe(204);
      const half = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', customer.userId)
        .executeTakeFirstOrThrow();
      expect(half).toMatchObject({ status: 'deleted', password_hash: null, erased_at: null });
      expect((await getOrder(world, orderId, customer.accessToken)).statusCode).toBe(401);

      const later = new Date(Date.now() + 120_000);
      const [first, second] = await Promise.all([
        testApp.services.identity.privacy.resumeErasures(later),
        testApp.services.identity.privacy.resumeErasures(later),
      ]);
      expect(first + second).toBeGreaterThanOrEqual(1);
      expect(await testApp.services.identity.privacy.resumeErasures(later)).toBe(0);
      const done = await db
        .selectFrom('users')
        .selectAll()
        .where('id', '=', customer.userId)
        .executeTakeFirstOrThrow();
      expect(done).toMatchObject({ phone: null, email: null, name: null });
      expect(done.erased_at).not.toBeNull();
      expect((await getOrder(world, orderId, world.actors.owner.accessToken)).json().delivery.text).toBe(
        '[redacted]',
      );
    } finally {
      registry.delete('flaky');
    }
  });
});
