import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, DEFAULT_TEST_PASSWORD, type CreatedUser } from '../../helpers/auth.js';

/**
 * Many accounts per device (docs/admin.md "Accounts per device"): identity tells fraud detection of
 * each session started on a device the apps named (`X-Device-Id`); the fourth distinct account
 * signing in on one device within the window opens an `accounts_per_device` case naming it, and its
 * payouts are held at the hold score. Signing in again, or on distinct devices, counts nothing more;
 * a sign-in without the header is not a signal; the device is never stored in clear.
 */
let testApp: TestApp;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp({
    env: { FRAUD_ACCOUNTS_PER_DEVICE: '4', FRAUD_RATE_WINDOW_DAYS: '30', FRAUD_PAYOUT_HOLD_SCORE: '50' },
  });
  admin = await createUser(testApp, { roles: ['admin'] });
}, 120_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.db;

async function signIn(user: CreatedUser, deviceId?: string) {
  const response = await testApp.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    headers: deviceId === undefined ? {} : { 'x-device-id': deviceId },
    payload: { phone: user.phone, password: DEFAULT_TEST_PASSWORD, client: 'mobile' },
  });
  expect(response.statusCode, response.body).toBe(200);
}

const deviceCases = () =>
  db()
    .selectFrom('admin_fraud_cases')
    .select(['id', 'rule', 'subject', 'user_id', 'signals', 'score', 'reason'])
    .where('rule', '=', 'accounts_per_device')
    .orderBy('opened_at')
    .execute();

const deviceSignals = async () =>
  (
    await db().selectFrom('admin_fraud_signals').select(['source_id', 'user_id', 'subjects']).execute()
  ).filter((row) => row.source_id.startsWith('device:'));

const customers = (count: number) =>
  Promise.all(Array.from({ length: count }, () => createUser(testApp, { roles: ['customer'] })));

describe('accounts per device', () => {
  it('three accounts on one device open nothing; signing in again counts once; the fourth opens a case naming it, with a hold', async () => {
    const device = `install-${randomUUID()}`;
    const [first, second, third, fourth] = await customers(4);
    for (const user of [first!, second!, third!]) await signIn(user, device);
    await signIn(first!, device);
    await signIn(second!, device);
    expect(await deviceCases()).toEqual([]);
    const signals = await deviceSignals();
    expect(signals).toHaveLength(3);
    // One subject for the device, a keyed hash: no install id, no identity hash in it.
    const subjects = new Set(signals.flatMap((row) => row.subjects));
    expect(subjects.size).toBe(1);
    const [subject] = [...subjects];
    expect(subject).toMatch(/^device:[A-Za-z0-9_-]{16,}$/);
    expect(JSON.stringify(signals)).not.toContain(device);
    const identityHashes = await db()
      .selectFrom('sessions')
      .select('device_hash')
      .where('device_hash', 'is not', null)
      .execute();
    for (const row of identityHashes) expect(subject).not.toContain(row.device_hash!);

    await signIn(fourth!, device);
    const cases = await deviceCases();
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ user_id: fourth!.userId, signals: 4, score: 50, subject });
    expect(cases[0]!.reason).toBe('4 accounts signing in on one device within 30 days (threshold 4)');
    const listed = await testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/fraud/cases?status=open&limit=100',
      headers: authHeader(admin.accessToken),
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items.find((item: { id: string }) => item.id === cases[0]!.id)).toMatchObject({
      rule: 'accounts_per_device',
      userId: fourth!.userId,
    });
    expect(await testApp.services.admin.fraud.payoutHolds.isHeld(fourth!.userId)).toBe(true);
  });

  it('accounts on distinct devices, or signing in without a device id, open nothing', async () => {
    const before = (await deviceSignals()).length;
    const users = await customers(5);
    for (const user of users) await signIn(user, `install-${randomUUID()}`);
    for (const user of users) await signIn(user);
    expect(await deviceCases()).toHaveLength(1); // the first test's only
    expect((await deviceSignals()).length).toBe(before + 5);
  });
});
