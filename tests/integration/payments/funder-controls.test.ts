/**
 * Funder-set spending controls (issue #28): a relative whose funding the wallet's owner accepted
 * sets the wallet's category controls (a parent paying for a student's food only); the owner
 * cannot loosen them while the funding stands, a refusal of the funder hands them back, and a
 * stranger can set nothing. Enforced at payment time like the owner's own controls.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, worldId } from '../../../ledger/rules/index.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await listeningPaymentsWorld();
}, 60_000);
afterAll(async () => world?.testApp.close());

const app = () => world.testApp.app;

async function consent(funder: CreatedUser, relative: CreatedUser, allow: boolean) {
  const asked = await app().inject({
    method: 'POST',
    url: '/v1/wallet/card-fundings',
    headers: { ...authHeader(funder.accessToken), 'idempotency-key': key() },
    payload: { amountMinor: 1_000, currency: 'USD', recipientPhone: relative.phone },
  });
  expect([201, 409]).toContain(asked.statusCode);
  const decided = await app().inject({
    method: 'PUT',
    url: `/v1/wallet/funders/${funder.userId}`,
    headers: authHeader(relative.accessToken),
    payload: { allow },
  });
  expect(decided.statusCode, decided.body).toBe(200);
}

async function setControls(funder: CreatedUser, recipientUserId: string, payload: unknown) {
  return app().inject({
    method: 'PUT',
    url: `/v1/wallet/funded/${recipientUserId}/controls`,
    headers: authHeader(funder.accessToken),
    payload: payload as Record<string, unknown>,
  });
}

async function ownerSets(owner: CreatedUser, categoryControls: unknown) {
  return app().inject({
    method: 'PUT',
    url: '/v1/wallet/settings',
    headers: authHeader(owner.accessToken),
    payload: { categoryControls } as Record<string, unknown>,
  });
}

async function fundXaf(userId: string, amountMinor: bigint) {
  const [outcome] = await world.testApp.services.ledger.submit([
    {
      id: `test-fund:${userId}:${randomUUID()}`,
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

describe('spending controls set by the funder', () => {
  it('a funder blocks tips on the wallet they fund: a tipped order is refused, the owner cannot lift it, refusing the funder hands the controls back', async () => {
    const funder = await createUser(world.testApp, { roles: ['customer'] });
    const student = await createUser(world.testApp, { roles: ['customer'] });
    await consent(funder, student, true);
    await fundXaf(student.userId, 100_000n);

    const set = await setControls(funder, student.userId, { categoryControls: { tips: { blocked: true } } });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toEqual({
      recipientUserId: student.userId,
      currency: 'XAF',
      categoryControls: [{ category: 'tips', blocked: true, monthlyLimitMinor: null }],
    });
    // No balance or spending of the student reaches the funder.
    expect(JSON.stringify(set.json())).not.toMatch(/balance|spent/i);

    const tipped = await placeOrder(world, student.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 200,
    });
    expect(tipped.statusCode).toBe(402);
    expect(tipped.json().code).toBe('category_restricted');
    const food = await placeOrder(world, student.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
    });
    expect(food.statusCode, food.body).toBe(201);

    const lifted = await ownerSets(student, { tips: { blocked: false } });
    expect(lifted.statusCode).toBe(409);
    expect(lifted.json().code).toBe('category_controls_set_by_funder');

    await consent(funder, student, false);
    const afterRefusal = await ownerSets(student, { tips: { blocked: false } });
    expect(afterRefusal.statusCode, afterRefusal.body).toBe(200);
    // And the refused funder can no longer set anything.
    expect(
      (await setControls(funder, student.userId, { categoryControls: { tips: { blocked: true } } }))
        .statusCode,
    ).toBe(404);
  });

  it('nobody without the owner’s acceptance sets controls: a stranger, a requested-only funder, oneself, an unknown id are 404; bad bodies 400', async () => {
    const funder = await createUser(world.testApp, { roles: ['customer'] });
    const owner = await createUser(world.testApp, { roles: ['customer'] });
    const stranger = await createUser(world.testApp, { roles: ['customer'] });
    const body = { categoryControls: { food: { monthlyLimitMinor: 5_000 } } };
    // Requested, not yet accepted.
    await app().inject({
      method: 'POST',
      url: '/v1/wallet/card-fundings',
      headers: { ...authHeader(funder.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 1_000, currency: 'USD', recipientPhone: owner.phone },
    });
    for (const [who, target] of [
      [funder, owner.userId],
      [stranger, owner.userId],
      [owner, owner.userId],
      [funder, randomUUID()],
    ] as const) {
      const response = await setControls(who, target, body);
      expect(response.statusCode).toBe(404);
      expect(response.json().code).toBe('funded_wallet_not_found');
    }
    await consent(funder, owner, true);
    for (const bad of [
      {},
      null,
      { categoryControls: { food: { monthlyLimitMinor: 0 } } },
      { categoryControls: { rent: { blocked: true } } },
      { categoryControls: { food: { blocked: 'yes' } } },
      { categoryControls: { food: { blocked: true } }, currency: 'EUR' },
      { categoryControls: { food: { blocked: true } }, extra: 1 },
    ]) {
      const response = await setControls(funder, owner.userId, bad);
      expect(response.statusCode, JSON.stringify(bad)).toBe(400);
    }
    const notUuid = await setControls(funder, 'not-a-uuid', body);
    expect(notUuid.statusCode).toBe(400);
    const anonymous = await app().inject({
      method: 'PUT',
      url: `/v1/wallet/funded/${owner.userId}/controls`,
      payload: body,
    });
    expect(anonymous.statusCode).toBe(401);
    // Nothing was set by any of these.
    const wallet = await app().inject({
      method: 'GET',
      url: '/v1/wallet',
      headers: authHeader(owner.accessToken),
    });
    expect(wallet.json().categoryControls).toEqual([]);
    const ok = await setControls(funder, owner.userId, body);
    expect(ok.statusCode).toBe(200);
  });
});
