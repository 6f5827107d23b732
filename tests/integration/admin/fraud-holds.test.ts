/**
 * More fraud rules on the admin context's reactor (docs/admin.md): order velocity, cancel loops,
 * top-up velocity, several accounts per payment phone; each with a scenario that trips it and one
 * that must not. A case scoring FRAUD_PAYOUT_HOLD_SCORE holds its person's payouts (payments
 * refuses the request, 409 payout_held) until an admin's decision releases it. Real PostgreSQL,
 * Redis, ledger and payment simulators.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, worldId } from '../../../ledger/rules/index.js';
import { authHeader, createUser, randomMtnPhone, type CreatedUser } from '../../helpers/auth.js';
import { act, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { key, listeningPaymentsWorld, topUp, until } from '../payments/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await listeningPaymentsWorld({
    FRAUD_ORDERS_PER_ACCOUNT: '3',
    FRAUD_CANCELS_PER_ACCOUNT: '2',
    FRAUD_TOPUPS_PER_ACCOUNT: '3',
    FRAUD_ACCOUNTS_PER_PHONE: '2',
    FRAUD_FAILED_PAYMENTS_PER_ACCOUNT: '50',
    FRAUD_FAILED_PAYMENTS_PER_PHONE: '50',
    FRAUD_PAYOUT_HOLD_SCORE: '50',
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

const db = () => world.testApp.services.db;
const admin = () => authHeader(world.actors.admin.accessToken);
/** A Mobile Money number whose last four digits are no simulator's magic ending (it succeeds). */
const phone = randomMtnPhone;

const casesOf = (userId: string) =>
  db().selectFrom('admin_fraud_cases').selectAll().where('user_id', '=', userId).execute();
const holdsOf = (userId: string) =>
  db().selectFrom('admin_payout_holds').selectAll().where('user_id', '=', userId).execute();
const auditOf = (userId: string, action: string) =>
  db()
    .selectFrom('audit_logs')
    .selectAll()
    .where('subject_user_id', '=', userId)
    .where('action', '=', action)
    .execute();

async function fund(user: CreatedUser) {
  await world.testApp.services.ledger.submit([
    {
      id: `fund:${user.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(user.userId, 'XAF'),
      amountMinor: 50_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
}

async function order(user: CreatedUser): Promise<string> {
  const placed = await placeOrder(world, user.accessToken, { items: [{ itemId: world.jusId, quantity: 1 }] });
  expect(placed.statusCode, placed.body).toBe(201);
  return placed.json().id as string;
}

const payout = () =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/payouts',
    headers: authHeader(world.actors.owner.accessToken),
    payload: { payeeKind: 'restaurant', restaurantId: world.restaurantId, amountMinor: 1_000 },
  });

const decide = (caseId: string, decision: 'dismiss' | 'confirm') =>
  world.testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/fraud/cases/${caseId}/decision`,
    headers: admin(),
    payload: { decision, note: 'reviewed' },
  });

const releaseHold = (caseId: string, token = world.actors.admin.accessToken) =>
  world.testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/fraud/cases/${caseId}/release-hold`,
    headers: authHeader(token),
    payload: { note: 'cleared by finance' },
  });

describe('order velocity and cancel loops', () => {
  it("a restaurant owner's third order in the window opens a case that holds their payouts; dismissing releases it", async () => {
    const owner = world.actors.owner;
    await fund(owner);
    const calm = await createUser(world.testApp, { roles: ['customer'] });
    await fund(calm);
    for (let i = 0; i < 3; i += 1) await order(owner);
    for (let i = 0; i < 2; i += 1) await order(calm);

    const [opened] = await until(
      () => casesOf(owner.userId),
      (rows) => rows.some((row) => row.rule === 'orders_per_account'),
      30_000,
    );
    expect(opened).toMatchObject({ rule: 'orders_per_account', status: 'open', score: 50, signals: 3 });
    expect(opened!.reason).toContain('3 orders placed by one account');
    await until(
      () => holdsOf(owner.userId),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(await auditOf(owner.userId, 'admin.payout_hold_placed')).toHaveLength(1);
    expect(await world.testApp.services.admin.fraud.payoutHolds.isHeld(owner.userId)).toBe(true);

    const held = await payout();
    expect(held.statusCode, held.body).toBe(409);
    expect(held.headers['content-type']).toContain('application/problem+json');
    expect(held.json().code).toBe('payout_held');
    expect(
      await db().selectFrom('payouts').select('payout_id').where('requested_by', '=', owner.userId).execute(),
    ).toHaveLength(0);

    // Two orders: under the threshold, no case (the reactor has seen them once the owner's case exists).
    await until(
      () =>
        db()
          .selectFrom('admin_fraud_signals')
          .select('source_id')
          .where('user_id', '=', calm.userId)
          .where(sql<boolean>`'orders_per_account' = ANY(rules)`)
          .execute(),
      (rows) => rows.length === 2,
      30_000,
    );
    expect(await casesOf(calm.userId)).toHaveLength(0);

    // Releasing an open case's hold is refused: the decision comes first.
    const early = await releaseHold(opened!.id);
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('case_not_decided');

    const dismissed = await decide(opened!.id, 'dismiss');
    expect(dismissed.statusCode, dismissed.body).toBe(200);
    expect(await world.testApp.services.admin.fraud.payoutHolds.isHeld(owner.userId)).toBe(false);
    const [hold] = await holdsOf(owner.userId);
    expect(hold).toMatchObject({ released_by: world.actors.admin.userId, release_note: 'reviewed' });
    expect(await auditOf(owner.userId, 'admin.payout_hold_released')).toHaveLength(1);
    const after = await payout();
    expect(after.json().code).not.toBe('payout_held');
  }, 90_000);

  it('two orders cancelled by their customer open a cancel-loop case; orders the restaurant declines do not count', async () => {
    const looper = await createUser(world.testApp, { roles: ['customer'] });
    const other = await createUser(world.testApp, { roles: ['customer'] });
    await Promise.all([fund(looper), fund(other)]);
    for (let i = 0; i < 2; i += 1) {
      const id = await order(looper);
      const cancelled = await act(world, id, 'cancel', looper.accessToken, { reason: 'changed my mind' });
      expect(cancelled.statusCode, cancelled.body).toBe(200);
    }
    // The other customer's orders are declined by the restaurant: not their loop.
    for (let i = 0; i < 2; i += 1) {
      const id = await order(other);
      const rejected = await act(world, id, 'decline', world.actors.owner.accessToken, {
        reason: 'closing early',
      });
      expect(rejected.statusCode, rejected.body).toBe(200);
    }
    const [loop] = await until(
      () => casesOf(looper.userId),
      (rows) => rows.some((row) => row.rule === 'cancels_per_account'),
      30_000,
    );
    expect(loop).toMatchObject({ rule: 'cancels_per_account', signals: 2 });
    await until(
      () =>
        db()
          .selectFrom('admin_fraud_signals')
          .select('source_id')
          .where('user_id', '=', other.userId)
          .execute(),
      (rows) => rows.length === 2, // their two orders
      30_000,
    );
    expect((await casesOf(other.userId)).filter((row) => row.rule === 'cancels_per_account')).toHaveLength(0);
  }, 90_000);
});

describe('top-up velocity and accounts per payment phone', () => {
  it('a third top-up opens a case; a confirmed case keeps its hold until an admin releases it', async () => {
    const topper = await createUser(world.testApp, { roles: ['customer', 'driver'] });
    const own = phone();
    for (let i = 0; i < 3; i += 1) {
      const response = await topUp(world.testApp, topper.accessToken, 1_000, own, key());
      expect(response.statusCode, response.body).toBe(202);
    }
    const [opened] = await until(
      () => casesOf(topper.userId),
      (rows) => rows.some((row) => row.rule === 'topups_per_account'),
      30_000,
    );
    expect(opened).toMatchObject({ rule: 'topups_per_account', signals: 3 });
    // One account on its own phone: no accounts-per-phone case.
    expect((await casesOf(topper.userId)).filter((row) => row.rule === 'accounts_per_phone')).toHaveLength(0);
    await until(
      () => holdsOf(topper.userId),
      (rows) => rows.length === 1,
      30_000,
    );

    expect((await decide(opened!.id, 'confirm')).statusCode).toBe(200);
    expect(await world.testApp.services.admin.fraud.payoutHolds.isHeld(topper.userId)).toBe(true);
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    expect((await releaseHold(opened!.id, customer.accessToken)).statusCode).toBe(403);
    const released = await releaseHold(opened!.id);
    expect(released.statusCode, released.body).toBe(200);
    expect(released.json()).toEqual({ caseId: opened!.id, held: false });
    expect((await releaseHold(opened!.id)).json()).toEqual({ caseId: opened!.id, held: false });
    expect(await world.testApp.services.admin.fraud.payoutHolds.isHeld(topper.userId)).toBe(false);
    expect(await auditOf(topper.userId, 'admin.payout_hold_released')).toHaveLength(1);
  }, 90_000);

  it('a second account paying from the same phone opens an accounts-per-phone case', async () => {
    const shared = phone();
    const [first, second] = await Promise.all([
      createUser(world.testApp, { roles: ['customer'] }),
      createUser(world.testApp, { roles: ['customer'] }),
    ]);
    expect((await topUp(world.testApp, first.accessToken, 1_000, shared, key())).statusCode).toBe(202);
    expect((await topUp(world.testApp, second.accessToken, 1_000, shared, key())).statusCode).toBe(202);
    const cases = await until(
      () =>
        db()
          .selectFrom('admin_fraud_cases')
          .selectAll()
          .where('rule', '=', 'accounts_per_phone')
          .where('user_id', 'in', [first.userId, second.userId])
          .execute(),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(cases[0]).toMatchObject({ signals: 2, status: 'open' });
    expect(cases[0]!.subject).toMatch(/^phone:/);
    expect(cases[0]!.subject).not.toContain(shared.slice(1));
  }, 90_000);
});
