import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authHeader,
  createUser,
  DEFAULT_TEST_PASSWORD,
  randomPhone,
  type CreatedUser,
} from '../../helpers/auth.js';
import { NEAR, type OrderWorld } from '../orders/helpers.js';
import { completeOrder, deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../loyalty/helpers.js';

/**
 * Referral abuse (docs/admin.md "Referral abuse"): referrals credited to one referrer whose
 * referees signed in on one device, paid from one phone or ordered to one delivery point open a
 * case naming the referrer; referees on distinct devices, phones and points, a shared device behind
 * distinct referrers, or a referral refused by loyalty, do not. One scenario runs through real
 * orders completed by the sweep (the award reactor reports with the order's delivery point).
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({
    FRAUD_REFERRALS_PER_SOURCE: '3',
    FRAUD_REFERRAL_WINDOW_DAYS: '30',
    FRAUD_PAYOUT_HOLD_SCORE: '50',
    FRAUD_ORDERS_PER_ACCOUNT: '100',
    FRAUD_ACCOUNTS_PER_PHONE: '100',
    // Referees share devices here on purpose: accounts per device is fraud-devices.test.ts's.
    FRAUD_ACCOUNTS_PER_DEVICE: '100',
    LOYALTY_REFERRAL_MONTHLY_CAP: '10',
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const db = () => services().db;

const signIn = async (user: CreatedUser, deviceId: string) => {
  const response = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    headers: { 'x-device-id': deviceId },
    payload: { phone: user.phone, password: DEFAULT_TEST_PASSWORD, client: 'mobile' },
  });
  expect(response.statusCode, response.body).toBe(200);
};

async function codeOf(user: CreatedUser): Promise<string> {
  const response = await world.testApp.app.inject({
    method: 'GET',
    url: '/v1/loyalty/referral',
    headers: authHeader(user.accessToken),
  });
  expect(response.statusCode, response.body).toBe(200);
  return response.json().code;
}

async function referred(code: string, referee: CreatedUser) {
  const response = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/loyalty/referral',
    headers: { ...authHeader(referee.accessToken), 'content-type': 'application/json' },
    payload: JSON.stringify({ code }),
  });
  expect(response.statusCode, response.body).toBe(201);
}

/** About 110 m apart per step: another building. */
const point = (step: number) => ({ ...NEAR, latitude: NEAR.latitude + step * 0.001 });

/** The referee's first completed order, as the award reactor hands it to referrals. */
const completed = (referee: CreatedUser, input: { paymentPhone?: string | null; delivery?: unknown }) =>
  services().loyalty.referrals.onOrderCompleted({
    orderId: randomUUID(),
    refereeId: referee.userId,
    paymentPhone: input.paymentPhone ?? null,
    delivery: input.delivery ?? point(0),
    at: new Date(),
  });

const casesOf = (referrerId: string) =>
  db()
    .selectFrom('admin_fraud_cases')
    .select(['id', 'rule', 'subject', 'user_id', 'related_user_id', 'signals', 'score', 'reason'])
    .where('user_id', '=', referrerId)
    .orderBy('opened_at')
    .execute();

const signalsOf = async (referrerId: string) =>
  (
    await db()
      .selectFrom('admin_fraud_signals')
      .select(['source_id', 'rules', 'subjects'])
      .where('user_id', '=', referrerId)
      .execute()
  ).filter((row) => row.source_id.startsWith('referral:'));

const customers = (count: number) =>
  Promise.all(Array.from({ length: count }, () => createUser(world.testApp, { roles: ['customer'] })));

describe('referral abuse', () => {
  it('three referees of one referrer on one device open a referrals_per_device case naming the referrer, holding payouts; a replay counts nothing twice', async () => {
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    await signIn(referrer, `install-${randomUUID()}`);
    const code = await codeOf(referrer);
    const shared = `install-${randomUUID()}`;
    const referees = await customers(3);
    for (const [index, referee] of referees.entries()) {
      await signIn(referee, shared);
      await referred(code, referee);
      // Distinct points and no phone: only the device is shared.
      if (index < 2) {
        expect(await completed(referee, { delivery: point(index * 3) })).toBe('booked');
        expect(await casesOf(referrer.userId)).toEqual([]);
      } else {
        // The third completion handled twice at once (a redelivery racing the first): booked and
        // reported once, one case.
        const outcomes = await Promise.all([1, 2].map(() => completed(referee, { delivery: point(6) })));
        expect(outcomes.sort()).toEqual(['booked', 'exists']);
      }
    }
    const cases = await casesOf(referrer.userId);
    expect(cases).toHaveLength(1);
    const [opened] = cases;
    expect(opened).toMatchObject({
      rule: 'referrals_per_device',
      user_id: referrer.userId,
      related_user_id: referees[2]!.userId,
      signals: 3,
      score: 50,
      reason:
        '3 referrals credited to one referrer whose referees signed in on one device within 30 days (threshold 3)',
    });
    // The subject is a keyed hash: neither the referrer's id nor the device's hash is in it.
    expect(opened!.subject).toMatch(/^referral:device:[A-Za-z0-9_-]+$/);
    expect(opened!.subject).not.toContain(referrer.userId);
    const [deviceHash] = await services().identity.repository.deviceHashesOf(referees[0]!.userId);
    expect(opened!.subject).not.toContain(deviceHash);
    // Score 50 reaches this file's hold score: the referrer's payouts are held.
    expect(await services().admin.fraud.payoutHolds.isHeld(referrer.userId)).toBe(true);

    // Replayed (the award reactor redelivers): the decision stands, nothing counted twice.
    for (const referee of referees) expect(await completed(referee, { delivery: point(0) })).toBe('exists');
    expect(await signalsOf(referrer.userId)).toHaveLength(3);
    expect((await casesOf(referrer.userId)).map((row) => row.signals)).toEqual([3]);
  });

  it('three referees of one referrer paying from one phone open a referrals_per_phone case; from three phones, none', async () => {
    const phoneRing = await createUser(world.testApp, { roles: ['customer'] });
    const honest = await createUser(world.testApp, { roles: ['customer'] });
    const [ringCode, honestCode] = [await codeOf(phoneRing), await codeOf(honest)];
    const phone = randomPhone();
    for (const [index, referee] of (await customers(3)).entries()) {
      await referred(ringCode, referee);
      expect(await completed(referee, { paymentPhone: phone, delivery: point(index * 3) })).toBe('booked');
    }
    for (const [index, referee] of (await customers(3)).entries()) {
      await referred(honestCode, referee);
      expect(await completed(referee, { paymentPhone: randomPhone(), delivery: point(index * 3) })).toBe(
        'booked',
      );
    }
    const ring = await casesOf(phoneRing.userId);
    expect(ring.map((row) => [row.rule, row.signals])).toEqual([['referrals_per_phone', 3]]);
    expect(ring[0]!.subject).toMatch(/^referral:phone:/);
    expect(ring[0]!.subject).not.toContain(phone);
    expect(await casesOf(honest.userId)).toEqual([]);
    // Each honest referral was recorded, about three different phones and points.
    const signals = await signalsOf(honest.userId);
    expect(signals).toHaveLength(3);
    expect(new Set(signals.flatMap((row) => row.subjects)).size).toBe(6);
  });

  it('one shared device behind three referrers, and referrals loyalty refused, open nothing', async () => {
    const shared = `install-${randomUUID()}`;
    const referrers = await customers(3);
    for (const referrer of referrers) {
      const referee = await createUser(world.testApp, { roles: ['customer'] });
      await signIn(referee, shared);
      await referred(await codeOf(referrer), referee);
      expect(await completed(referee, { delivery: point(0) })).toBe('booked');
    }
    for (const referrer of referrers) expect(await casesOf(referrer.userId)).toEqual([]);

    // Refused by loyalty (each referee signed in on the referrer's own device): nothing credited,
    // nothing reported, however many.
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const device = `install-${randomUUID()}`;
    await signIn(referrer, device);
    const code = await codeOf(referrer);
    for (const referee of await customers(3)) {
      await signIn(referee, device);
      await referred(code, referee);
      expect(await completed(referee, { delivery: point(0) })).toBe('refused');
    }
    expect(await signalsOf(referrer.userId)).toEqual([]);
    expect(await casesOf(referrer.userId)).toEqual([]);
  });

  it('through real orders completed by the sweep: three referees delivered to one point open a referrals_per_address case', async () => {
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const code = await codeOf(referrer);
    const referees = await Promise.all([1, 2, 3].map(() => fundedCustomer(world)));
    for (const referee of referees) {
      await referred(code, referee);
      // The orders' default delivery point, paid from the wallet (no phone), no device sent.
      const order = await deliveredOrder(world, referee.accessToken);
      await completeOrder(world, order.id);
    }
    const cases = await until(
      () => casesOf(referrer.userId),
      (rows) => rows.length > 0,
    );
    expect(cases.map((row) => [row.rule, row.signals, row.related_user_id])).toEqual([
      ['referrals_per_address', 3, referees[2]!.userId],
    ]);
    expect(cases[0]!.subject).toMatch(/^referral:address:/);
  }, 180_000);
});
