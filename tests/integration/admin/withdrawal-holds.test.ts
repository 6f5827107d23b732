/**
 * Admins' holds on payouts and withdrawals (docs/admin.md "Withdrawal holds"): a held driver,
 * restaurant or customer is paid nothing (requests and approvals 409 payout_held, nothing written,
 * the balance untouched); a payout approved before the hold is held back by the job before it is
 * sent, its money back in the payee's balance to the franc; released, payouts go again. Placing and
 * releasing are admins' only, validated, idempotent and audited. Real PostgreSQL, Redis, ledger and
 * the payment simulators; the payout job is run by the test (workers off) to place the hold between
 * the approval and the send.
 */
import { randomInt } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerWalletId,
  driverPayableId,
  providerClearingId,
  restaurantPayableId,
  worldId,
} from '../../../ledger/rules/index.js';
import { PROVIDER_NAMES } from '../../../src/modules/payments/providers/types.js';
import { authHeader, createUser, randomMtnPhone, withStepUp, type CreatedUser } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld } from '../payments/helpers.js';

let world: OrderWorld;
let adminToken: string;

beforeAll(async () => {
  world = await listeningPaymentsWorld({ JOB_WORKERS_ENABLED: 'false' });
  adminToken = await withStepUp(world.testApp, world.actors.admin);
  // The providers' clearing accounts hold our float: payouts are held against it.
  await ledger().submit(
    PROVIDER_NAMES.map((provider) => ({
      id: `test:float:${provider}`,
      debitAccountId: providerClearingId(provider, 'XAF'),
      creditAccountId: worldId('XAF'),
      amountMinor: 10_000_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    })),
  );
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const ledger = () => services().ledger;
const db = () => services().db;
const admin = () => authHeader(world.actors.admin.accessToken);
const phone = randomMtnPhone;

async function credit(accountId: string, amountMinor: bigint): Promise<void> {
  const [outcome] = await ledger().submit([
    {
      id: `test:credit:${accountId}:${randomInt(1e9)}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: accountId,
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcome!.result).toBe('ok');
}

async function available(accountId: string): Promise<bigint> {
  return (await ledger().account(accountId))?.availableMinor ?? 0n;
}

async function driverWithEarnings(amountMinor: bigint): Promise<CreatedUser> {
  const driver = await createUser(world.testApp, { roles: ['driver'], phone: phone() });
  await credit(driverPayableId(driver.userId, 'XAF'), amountMinor);
  return driver;
}

const hold = (body: Record<string, unknown>, headers: Record<string, string> = admin()) =>
  world.testApp.app.inject({ method: 'POST', url: '/v1/admin/withdrawal-holds', headers, payload: body });
const release = (holdId: string, note = 'cleared by finance') =>
  world.testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/withdrawal-holds/${holdId}/release`,
    headers: admin(),
    payload: { note },
  });
const requestPayout = (token: string, body: Record<string, unknown>) =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/payouts',
    headers: { ...authHeader(token), 'idempotency-key': key() },
    payload: body,
  });
const holdRows = () => db().selectFrom('admin_withdrawal_holds').selectAll().execute();
const audits = (action: string, resource: string) =>
  db()
    .selectFrom('audit_logs')
    .selectAll()
    .where('action', '=', action)
    .where('resource', '=', resource)
    .execute();
const payoutsOf = (payeeId: string) =>
  db().selectFrom('payouts').selectAll().where('payee_id', '=', payeeId).execute();

describe('withdrawal holds', () => {
  it("a held driver's payout is refused with nothing written; released, it is requested", async () => {
    const driver = await driverWithEarnings(8_000n);
    const placed = await hold({ payeeKind: 'driver', payeeId: driver.userId, reason: 'Chargeback ring' });
    expect(placed.statusCode, placed.body).toBe(201);
    const held = placed.json();
    expect(held).toMatchObject({ payeeKind: 'driver', payeeId: driver.userId, releasedAt: null });
    expect(placed.headers.location).toBe(`/v1/admin/withdrawal-holds/${held.id}`);
    const read = await world.testApp.app.inject({
      method: 'GET',
      url: placed.headers.location as string,
      headers: admin(),
    });
    expect(read.json()).toEqual(held);
    expect(await audits('admin.withdrawal_hold_placed', `withdrawal_hold:${held.id}`)).toHaveLength(1);

    const refused = await requestPayout(driver.accessToken, { payeeKind: 'driver', amountMinor: 5_000 });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.headers['content-type']).toContain('application/problem+json');
    expect(refused.json().code).toBe('payout_held');
    expect(await payoutsOf(driver.userId)).toHaveLength(0);
    expect(await available(driverPayableId(driver.userId, 'XAF'))).toBe(8_000n);

    const again = await hold({ payeeKind: 'driver', payeeId: driver.userId, reason: 'Second look' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'payee_already_held', holdId: held.id });

    const released = await release(held.id);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json().releasedAt).not.toBeNull();
    const releasedAgain = await release(held.id, 'again');
    expect(releasedAgain.statusCode).toBe(200);
    expect(releasedAgain.json().releaseNote).toBe('cleared by finance');
    expect(await audits('admin.withdrawal_hold_released', `withdrawal_hold:${held.id}`)).toHaveLength(1);

    const requested = await requestPayout(driver.accessToken, { payeeKind: 'driver', amountMinor: 5_000 });
    expect(requested.statusCode, requested.body).toBe(201);
    expect(await available(driverPayableId(driver.userId, 'XAF'))).toBe(3_000n);
  });

  it('a payout approved before the hold is held back before it is sent: its money stays with the payee, to the franc', async () => {
    const driver = await driverWithEarnings(6_500n);
    const requested = await requestPayout(driver.accessToken, { payeeKind: 'driver', amountMinor: 6_000 });
    expect(requested.statusCode, requested.body).toBe(201);
    const payoutId = requested.json().payoutId as string;
    const approved = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/payouts/${payoutId}/approve`,
      headers: authHeader(adminToken),
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(await available(driverPayableId(driver.userId, 'XAF'))).toBe(500n);

    const placed = await hold({ payeeKind: 'driver', payeeId: driver.userId, reason: 'Stolen phone report' });
    expect(placed.statusCode, placed.body).toBe(201);
    const processed = await services().payments.payouts.process(payoutId);
    expect(processed).toMatchObject({ status: 'FAILED', failure_reason: 'PAYOUT_HELD', sent_at: null });
    // Run again (a redelivered job): nothing more happens.
    await services().payments.payouts.process(payoutId);
    const simulators = services().payments.providers.simulators!;
    const sent = [...simulators.campay.engine.list(), ...simulators.mtn.engine.list()].filter(
      (transaction) => transaction.externalReference === payoutId,
    );
    expect(sent).toHaveLength(0);
    expect(await available(driverPayableId(driver.userId, 'XAF'))).toBe(6_500n);
    const account = await ledger().account(driverPayableId(driver.userId, 'XAF'));
    expect(account).toMatchObject({ debitsPending: 0n, debitsPosted: 0n, creditsPosted: 6_500n });
    expect(await audits('payout.held_back', `payout:${payoutId}`)).toHaveLength(1);
    expect((await ledger().verify({ projections: false })).ok).toBe(true);
  });

  it("a held customer's wallet withdrawal is refused and the wallet untouched", async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'], phone: phone() });
    await credit(customerWalletId(customer.userId, 'XAF'), 4_000n);
    const placed = await hold({ payeeKind: 'customer', payeeId: customer.userId, reason: 'Refund abuse' });
    expect(placed.statusCode, placed.body).toBe(201);
    const refused = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/wallet/withdrawals',
      headers: { ...authHeader(customer.accessToken), 'idempotency-key': key() },
      payload: { amountMinor: 3_000 },
    });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().code).toBe('payout_held');
    expect(await payoutsOf(customer.userId)).toHaveLength(0);
    expect(await available(customerWalletId(customer.userId, 'XAF'))).toBe(4_000n);
  });

  it("a held restaurant's payout is refused for its owner; its owner's driver-side earnings are not held by it", async () => {
    await world.testApp.services.identity.repository.updateUser(world.actors.owner.userId, {
      phone: phone(),
      phone_verified: true,
    });
    await credit(restaurantPayableId(world.restaurantId, 'XAF'), 9_000n);
    const placed = await hold({
      payeeKind: 'restaurant',
      payeeId: world.restaurantId,
      reason: 'Fake orders',
    });
    expect(placed.statusCode, placed.body).toBe(201);
    const body = { payeeKind: 'restaurant', restaurantId: world.restaurantId, amountMinor: 2_000 };
    const refused = await requestPayout(world.actors.owner.accessToken, body);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().code).toBe('payout_held');
    expect(await payoutsOf(world.restaurantId)).toHaveLength(0);
    expect(await available(restaurantPayableId(world.restaurantId, 'XAF'))).toBe(9_000n);
    expect(
      await services().admin.withdrawalHolds.isHeld({
        kind: 'driver',
        payeeId: world.actors.owner.userId,
        personId: world.actors.owner.userId,
      }),
    ).toBe(false);
    expect((await release(placed.json().id)).statusCode).toBe(200);
    const requested = await requestPayout(world.actors.owner.accessToken, body);
    expect(requested.statusCode, requested.body).toBe(201);
  });

  it('an Idempotency-Key replay places one hold and one audit line; the key with another body is 409', async () => {
    const driver = await driverWithEarnings(1_000n);
    const idempotencyKey = key();
    const body = { payeeKind: 'driver', payeeId: driver.userId, reason: 'Review' };
    const first = await hold(body, { ...admin(), 'idempotency-key': idempotencyKey });
    const second = await hold(body, { ...admin(), 'idempotency-key': idempotencyKey });
    expect(first.statusCode, first.body).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect((await holdRows()).filter((row) => row.payee_id === driver.userId)).toHaveLength(1);
    expect(await audits('admin.withdrawal_hold_placed', `withdrawal_hold:${first.json().id}`)).toHaveLength(
      1,
    );
    const reused = await hold(
      { ...body, reason: 'Another' },
      { ...admin(), 'idempotency-key': idempotencyKey },
    );
    expect(reused.statusCode).toBe(409);
    expect(reused.json().code).toBe('idempotency_key_reused');
  });

  it('only admins place, list and release holds; bad input is a problem and writes nothing', async () => {
    const driver = await driverWithEarnings(1_000n);
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    const before = (await holdRows()).length;
    for (const token of [world.actors.owner.accessToken, world.support.accessToken, driver.accessToken]) {
      const refused = await hold(
        { payeeKind: 'driver', payeeId: driver.userId, reason: 'Review' },
        authHeader(token),
      );
      expect(refused.statusCode).toBe(403);
      const listed = await world.testApp.app.inject({
        method: 'GET',
        url: '/v1/admin/withdrawal-holds',
        headers: authHeader(token),
      });
      expect(listed.statusCode).toBe(403);
    }
    const anonymous = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/withdrawal-holds',
      payload: { payeeKind: 'driver', payeeId: driver.userId, reason: 'Review' },
    });
    expect(anonymous.statusCode).toBe(401);
    const bad: [Record<string, unknown>, number, string][] = [
      [{ payeeKind: 'driver', payeeId: customer.userId, reason: 'Review' }, 404, 'payee_not_found'],
      [{ payeeKind: 'restaurant', payeeId: driver.userId, reason: 'Review' }, 404, 'payee_not_found'],
      [{ payeeKind: 'driver', payeeId: driver.userId, reason: '   ' }, 400, 'reason_required'],
      [
        { payeeKind: 'driver', payeeId: driver.userId, reason: 'x'.repeat(100_000) },
        400,
        'validation_failed',
      ],
      [{ payeeKind: 'courier', payeeId: driver.userId, reason: 'Review' }, 400, 'validation_failed'],
      [{ payeeKind: 'driver', payeeId: 'not-a-uuid', reason: 'Review' }, 400, 'validation_failed'],
      [{ payeeKind: 'driver', payeeId: driver.userId, reason: 'Review', extra: 1 }, 400, 'validation_failed'],
      [{ payeeKind: 'driver', payeeId: null, reason: 'Review' }, 400, 'validation_failed'],
    ];
    for (const [body, status, code] of bad) {
      const refused = await hold(body);
      expect(refused.statusCode, JSON.stringify(body).slice(0, 100)).toBe(status);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json().code).toBe(code);
    }
    expect((await holdRows()).length).toBe(before);
    const unknown = await release('00000000-0000-4000-8000-000000000000');
    expect(unknown.statusCode).toBe(404);
    const badCursor = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/withdrawal-holds?cursor=nope',
      headers: admin(),
    });
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().code).toBe('invalid_cursor');
  });

  it('lists holds newest first in cursor pages, active or released', async () => {
    const drivers = await Promise.all([0, 1, 2].map(() => driverWithEarnings(1_000n)));
    const ids: string[] = [];
    for (const driver of drivers) {
      const placed = await hold({ payeeKind: 'driver', payeeId: driver.userId, reason: 'Paging' });
      ids.push(placed.json().id);
    }
    await release(ids[0]!);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await world.testApp.app.inject({
        method: 'GET',
        url: `/v1/admin/withdrawal-holds?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
        headers: admin(),
      });
      expect(page.statusCode, page.body).toBe(200);
      const json = page.json() as { items: { id: string }[]; nextCursor: string | null };
      expect(json.items.length).toBeLessThanOrEqual(2);
      seen.push(...json.items.map((item) => item.id));
      cursor = json.nextCursor;
    } while (cursor !== null);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.filter((id) => ids.includes(id))).toEqual([ids[2], ids[1], ids[0]]);
    const active = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/withdrawal-holds?active=true&limit=100',
      headers: admin(),
    });
    const activeIds = (active.json().items as { id: string }[]).map((item) => item.id);
    expect(activeIds).toContain(ids[1]);
    expect(activeIds).not.toContain(ids[0]);
  });
});
