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
