/**
 * NUL characters and lone UTF-16 surrogates are refused at the edge with 400 `invalid_characters`
 * before any work: PostgreSQL stores neither, and a wallet order whose address held one used to
 * move the money into escrow and then fail with a 500.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, worldId } from '../../ledger/rules/index.js';
import { unsafeTextPath } from '../../src/http/text-guard.js';
import { authHeader, createUser } from '../helpers/auth.js';
import { act, idempotencyKey, NEAR, placeOrder, type OrderWorld } from '../integration/orders/helpers.js';
import { listeningPaymentsWorld } from '../integration/payments/helpers.js';

let world: OrderWorld;
beforeAll(async () => {
  world = await listeningPaymentsWorld();
});
afterAll(async () => world?.testApp.close());

async function fundedCustomer(amountMinor: bigint) {
  const customer = await createUser(world.testApp, { roles: ['customer'] });
  const [outcome] = await world.testApp.services.ledger.submit([
    {
      id: `test-fund:${customer.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(customer.userId, 'XAF'),
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcome!.result).toBe('ok');
  return customer;
}

async function eventCount(): Promise<number> {
  const row = await world.testApp.services.db
    .selectFrom('eventstore_events')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

const expectRefused = (response: { statusCode: number; body: string; json(): unknown }) => {
  expect(response.statusCode, response.body).toBe(400);
  expect(response.json()).toMatchObject({ status: 400, code: 'invalid_characters' });
};

describe('NUL and lone surrogates', () => {
  it('a wallet order with NUL in its address is refused before the money moves', async () => {
    const customer = await fundedCustomer(50_000n);
    const before = await eventCount();
    for (const text of ['Rue\u0000 1.234, Bonapriso', 'Rue 1.234 \ud800 Bonapriso']) {
      const key = idempotencyKey();
      const refused = await world.testApp.app.inject({
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': key },
        payload: {
          restaurantId: world.restaurantId,
          items: [{ itemId: world.jusId, quantity: 1 }],
          delivery: { ...NEAR, text },
          payment: { kind: 'wallet' },
        },
      });
      expectRefused(refused);
      expect(refused.json()).toMatchObject({ errors: [{ path: 'body/delivery/text' }] });
    }
    const account = await world.testApp.services.ledger.account(customerWalletId(customer.userId, 'XAF'));
    expect(account!.availableMinor).toBe(50_000n);
    expect(account!.debitsPosted).toBe(0n);
    expect(await eventCount()).toBe(before);
    // The same order with a clean address goes through: the refusal was about the text only.
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
    });
    expect(placed.statusCode, placed.body).toBe(201);
  });

  it('a name, a review, a decline reason: each refused with 400, nothing stored', async () => {
    const { owner } = world.actors;
    const customer = await fundedCustomer(50_000n);
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const orderId = placed.json().id as string;
    const before = await eventCount();
    expectRefused(await act(world, orderId, 'decline', owner.accessToken, { reason: 'plus de gaz\u0000' }));
    expectRefused(await act(world, orderId, 'decline', owner.accessToken, { reason: '\udc00 fermé' }));
    expect(await eventCount()).toBe(before);
    expect(
      (await act(world, orderId, 'accept', owner.accessToken, { preparationMinutes: 20 })).statusCode,
    ).toBe(200);

    const categories = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/restaurants/${world.restaurantId}/menu/categories`,
      headers: { ...authHeader(owner.accessToken), 'idempotency-key': idempotencyKey() },
      payload: { name: { fr: 'Bois\u0000sons' } },
    });
    expectRefused(categories);
    const review = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/restaurants/${world.restaurantId}/reviews`,
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': idempotencyKey() },
      payload: { orderId, rating: 5, comment: 'très bon \u0000' },
    });
    expectRefused(review);
  });

  it('in a query string, a path parameter and a header used as data', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    expectRefused(await world.testApp.app.inject({ method: 'GET', url: '/v1/restaurants?q=nd%00ole' }));
    expectRefused(
      await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/orders/%00',
        headers: authHeader(customer.accessToken),
      }),
    );
    expectRefused(
      await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/restaurants',
        headers: { 'user-agent': 'app\u0000' },
      }),
    );
  });

  it('finds the first unsafe string anywhere in a value, and accepts emoji (paired surrogates)', () => {
    expect(unsafeTextPath({ a: ['ok', { b: 'x\u0000' }] }, 'body')).toBe('body/a/1/b');
    expect(unsafeTextPath({ ['k\ud800']: 1 }, 'body')).toBe('body/k?');
    expect(unsafeTextPath({ name: 'Ndolé 🍲', list: ['😀', 'é'] }, 'body')).toBeUndefined();
    expect(unsafeTextPath('\udfff', 'query')).toBe('query');
  });
});
