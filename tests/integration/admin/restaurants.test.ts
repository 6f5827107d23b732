/**
 * Issue #23, restaurants: commission overrides managed by admins (validation, effective dates,
 * history, cancellation, audit, idempotency) and suspension refusing new orders (real PostgreSQL,
 * Redis and the ledger).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, worldId } from '../../../ledger/rules/index.js';
import { authHeader, createUser } from '../../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { listeningPaymentsWorld, until } from '../payments/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await listeningPaymentsWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

const admin = () => authHeader(world.actors.admin.accessToken);
const db = () => world.testApp.services.db;
const commission = () => world.testApp.services.payments.commission;

function put(restaurantId: string, payload: unknown, headers: Record<string, string> = admin()) {
  return world.testApp.app.inject({
    method: 'PUT',
    url: `/v1/admin/restaurants/${restaurantId}/commission`,
    headers,
    payload: payload as Record<string, unknown>,
  });
}

function history(restaurantId: string, query = '', headers: Record<string, string> = admin()) {
  return world.testApp.app.inject({
    method: 'GET',
    url: `/v1/admin/restaurants/${restaurantId}/commission${query}`,
    headers,
  });
}

async function changesOf(restaurantId: string) {
  return db()
    .selectFrom('restaurant_commission_changes')
    .selectAll()
    .where('restaurant_id', '=', restaurantId)
    .execute();
}

async function auditOf(restaurantId: string, action: string) {
  return db()
    .selectFrom('audit_logs')
    .selectAll()
    .where('resource', '=', `restaurant:${restaurantId}`)
    .where('action', '=', action)
    .execute();
}

describe('commission overrides', () => {
  it('admins only: other roles get 403, anonymous 401', async () => {
    const support = await createUser(world.testApp, { roles: ['support'] });
    for (const token of [
      world.actors.owner.accessToken,
      world.actors.customer.accessToken,
      support.accessToken,
    ]) {
      expect(
        (await put(world.restaurantId, { rate: '0.05', reason: 'mine' }, authHeader(token))).statusCode,
      ).toBe(403);
      expect((await history(world.restaurantId, '', authHeader(token))).statusCode).toBe(403);
    }
    expect((await put(world.restaurantId, { rate: '0.05', reason: 'anon' }, {})).statusCode).toBe(401);
    expect(await changesOf(world.restaurantId)).toHaveLength(0);
  });

  it('refuses bad input with a problem and changes nothing', async () => {
    const restaurantId = world.restaurantId;
    const past = new Date(Date.now() - 3_600_000).toISOString();
    const tooFar = new Date(Date.now() + 400 * 86_400_000).toISOString();
    const cases: [unknown, number, string][] = [
      [{ rate: '1.5', reason: 'too much' }, 400, 'validation_failed'],
      [{ rate: '-0.1', reason: 'negative' }, 400, 'validation_failed'],
      [{ rate: 0.1, reason: 'a number' }, 400, 'validation_failed'],
      [{ rate: '0.1' }, 400, 'validation_failed'],
      [{ rate: '0.1', reason: '   ' }, 400, 'validation_failed'],
      [{ rate: '0.1', reason: 'x'.repeat(100_000) }, 400, 'validation_failed'],
      [{ rate: '0.1', reason: 'extra', extra: true }, 400, 'validation_failed'],
      [{ rate: '0.1', reason: 'bad date', effectiveFrom: 'tomorrow' }, 400, 'validation_failed'],
      [{ rate: '0.1', reason: 'past', effectiveFrom: past }, 400, 'commission_effective_past'],
      [{ rate: '0.1', reason: 'too far', effectiveFrom: tooFar }, 400, 'commission_effective_too_far'],
      [null, 400, 'validation_failed'],
    ];
    for (const [payload, status, code] of cases) {
      const response = await put(restaurantId, payload);
      expect(response.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json().code).toBe(code);
    }
    const unknown = await put(randomUUID(), { rate: '0.1', reason: 'nobody' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().code).toBe('restaurant_not_found');
    // Back to the tiers when no override is in force: nothing to change.
    const unchanged = await put(restaurantId, { rate: null, reason: 'no override yet' });
    expect(unchanged.statusCode).toBe(409);
    expect(unchanged.json().code).toBe('commission_unchanged');
    expect(await changesOf(restaurantId)).toHaveLength(0);
    expect(await auditOf(restaurantId, 'commission.override')).toHaveLength(0);
  });

  it('sets a rate now, schedules another, lists the history, cancels a scheduled one, each audited', async () => {
    const restaurantId = world.restaurantId;
    const now = await put(restaurantId, { rate: '0.08', reason: 'launch partner' });
    expect(now.statusCode, now.body).toBe(204);
    expect(await commission().overrideRate(restaurantId)).toBe('0.08');
    const same = await put(restaurantId, { rate: '0.080', reason: 'again' });
    expect(same.json().code).toBe('commission_unchanged');

    // A change a few seconds ahead: scheduled until then, in force afterwards.
    const soon = new Date(Date.now() + 4_000).toISOString();
    expect(
      (await put(restaurantId, { rate: '0.1', reason: 'promo ends', effectiveFrom: soon })).statusCode,
    ).toBe(204);
    // And one far ahead, to be cancelled.
    const later = new Date(Date.now() + 30 * 86_400_000).toISOString();
    expect(
      (await put(restaurantId, { rate: '0.05', reason: 'premium partner', effectiveFrom: later })).statusCode,
    ).toBe(204);
    expect(await commission().overrideRate(restaurantId, new Date(later))).toBe('0.05');

    const listed = await history(restaurantId);
    expect(listed.statusCode, listed.body).toBe(200);
    const body = listed.json();
    expect(body.items.map((item: { rate: string }) => item.rate)).toEqual(['0.05', '0.1', '0.08']);
    expect(body.items.map((item: { status: string }) => item.status)).toEqual([
      'scheduled',
      'scheduled',
      'in_force',
    ]);
    expect(body.overrideRate).toBe('0.08');
    expect(body.items[2]).toMatchObject({ reason: 'launch partner', setBy: world.actors.admin.userId });

    await until(
      () => commission().overrideRate(restaurantId),
      (rate) => rate === '0.1',
      30_000,
    );
    const after = (await history(restaurantId)).json();
    expect(after.overrideRate).toBe('0.1');
    expect(after.items.map((item: { status: string }) => item.status)).toEqual([
      'scheduled',
      'in_force',
      'superseded',
    ]);

    // Pages of one, following the cursor.
    const first = (await history(restaurantId, '?limit=1')).json();
    expect(first.items).toHaveLength(1);
    const second = (await history(restaurantId, `?limit=1&cursor=${first.nextCursor}`)).json();
    expect(second.items[0].rate).toBe('0.1');
    expect((await history(restaurantId, '?cursor=bm9wZQ')).json().code).toBe('invalid_cursor');

    const scheduled = body.items[0].changeId;
    const inForce = body.items[1].changeId;
    const cancel = (changeId: string) =>
      world.testApp.app.inject({
        method: 'DELETE',
        url: `/v1/admin/restaurants/${restaurantId}/commission/changes/${changeId}`,
        headers: admin(),
      });
    const refused = await cancel(inForce);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('commission_change_in_force');
    expect((await cancel(randomUUID())).statusCode).toBe(404);
    expect((await cancel(scheduled)).statusCode).toBe(204);
    expect((await cancel(scheduled)).statusCode).toBe(204); // a retry changes nothing
    expect(await commission().overrideRate(restaurantId, new Date(later))).toBe('0.1');
    const final = (await history(restaurantId)).json();
    expect(final.items[0]).toMatchObject({ status: 'cancelled', cancelledBy: world.actors.admin.userId });

    const audits = await auditOf(restaurantId, 'commission.override');
    expect(audits).toHaveLength(3);
    expect(audits.map((row) => (row.new_value as { rate: string }).rate).sort()).toEqual([
      '0.05',
      '0.08',
      '0.1',
    ]);
    expect(await auditOf(restaurantId, 'commission.change_cancelled')).toHaveLength(1);
  }, 60_000);

  it('a retried change with the same Idempotency-Key is recorded once; the key with another body is 409', async () => {
    const { restaurantId } = { restaurantId: await otherRestaurant() };
    const headers = { ...admin(), 'idempotency-key': `commission-${randomUUID()}` };
    const first = await put(restaurantId, { rate: '0.11', reason: 'negotiated' }, headers);
    expect(first.statusCode, first.body).toBe(204);
    const replay = await put(restaurantId, { rate: '0.11', reason: 'negotiated' }, headers);
    expect(replay.statusCode).toBe(204);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    const reused = await put(restaurantId, { rate: '0.12', reason: 'negotiated' }, headers);
    expect(reused.statusCode).toBe(409);
    expect(reused.json().code).toBe('idempotency_key_reused');
    expect(await changesOf(restaurantId)).toHaveLength(1);
    expect(await auditOf(restaurantId, 'commission.override')).toHaveLength(1);
  });
});

async function otherRestaurant(): Promise<string> {
  const { activeRestaurant } = await import('../catalog/helpers.js');
  return activeRestaurant(world.testApp, world.actors);
}

describe('restaurant suspension', () => {
  it('a suspended restaurant takes no orders (422, nothing placed); reinstated, it does again; both audited', async () => {
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
    const decide = (decision: string, reason?: string) =>
      world.testApp.app.inject({
        method: 'POST',
        url: `/v1/admin/restaurants/${world.restaurantId}/verify`,
        headers: admin(),
        payload: reason === undefined ? { decision } : { decision, reason },
      });
    const suspended = await decide('suspend', 'hygiene inspection');
    expect(suspended.statusCode, suspended.body).toBe(200);
    expect(suspended.json().status).toBe('suspended');

    const refused = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.ndoleId, quantity: 1 }],
    });
    expect(refused.statusCode, refused.body).toBe(422);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().code).toBe('restaurant_not_active');
    // Nothing was taken from the wallet.
    expect(
      (await world.testApp.services.ledger.account(customerWalletId(customer.userId, 'XAF')))?.availableMinor,
    ).toBe(30_000n);

    const reinstated = await decide('reinstate');
    expect(reinstated.statusCode, reinstated.body).toBe(200);
    const accepted = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.ndoleId, quantity: 1 }],
    });
    expect(accepted.statusCode, accepted.body).toBe(201);

    expect(await auditOf(world.restaurantId, 'restaurant.suspend')).toHaveLength(1);
    expect(await auditOf(world.restaurantId, 'restaurant.reinstate')).toHaveLength(1);
  }, 60_000);
});
