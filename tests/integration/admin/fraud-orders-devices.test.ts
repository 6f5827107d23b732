import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, DEFAULT_TEST_PASSWORD, type CreatedUser } from '../../helpers/auth.js';
import { orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/**
 * Orders per device (docs/admin.md "Orders per device"), through real sign-ins and real orders:
 * the orders of every account that signed in on one device add up, and the threshold-th within the
 * window opens one `orders_per_device` case (later orders raise it, they open no other), listed
 * and decided like every case. Accounts on distinct devices open nothing. Two instances evaluating
 * the tripping order at once, and a redelivery of every event, leave one case and one signal per
 * order. No install id or identity hash is in a signal, a case or a log line.
 */
let world: OrderWorld;
let second: TestApp;

// One deployment: the same secrets (the keyed hashes of devices), one Redis prefix, one database.
const env = {
  FRAUD_ORDERS_PER_DEVICE: '3',
  FRAUD_ORDERS_PER_DEVICE_WINDOW_MINUTES: '60',
  FRAUD_ORDERS_PER_ACCOUNT: '100',
  FRAUD_ACCOUNTS_PER_DEVICE: '100',
  FRAUD_ACCOUNTS_PER_PHONE: '100',
  FRAUD_PAYOUT_HOLD_SCORE: '0',
  REDIS_KEY_PREFIX: `t${randomBytes(4).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
};

beforeAll(async () => {
  world = await orderWorld(env);
  second = await createTestApp({
    database: world.testApp.database,
    env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...env },
  });
}, 180_000);
afterAll(async () => {
  await second?.close();
  await world?.testApp.close();
});

const db = () => world.testApp.services.db;
const instances = () => [world.testApp, second];

async function signIn(user: CreatedUser, deviceId: string) {
  const response = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/auth/login',
    headers: { 'x-device-id': deviceId },
    payload: { phone: user.phone, password: DEFAULT_TEST_PASSWORD, client: 'mobile' },
  });
  expect(response.statusCode, response.body).toBe(200);
}

const customers = (count: number) =>
  Promise.all(Array.from({ length: count }, () => createUser(world.testApp, { roles: ['customer'] })));

async function placed(customer: CreatedUser): Promise<string> {
  const response = await placeOrder(world, customer.accessToken);
  expect(response.statusCode, response.body).toBe(201);
  return (response.json() as { id: string }).id;
}

const deviceCases = (userIds: string[]) =>
  db()
    .selectFrom('admin_fraud_cases')
    .select(['id', 'rule', 'subject', 'user_id', 'signals', 'score', 'reason', 'status'])
    .where('rule', '=', 'orders_per_device')
    .where('user_id', 'in', userIds)
    .execute();

/** The signals of these orders (one per order) that counted them against a device. */
const orderSignals = async (orderEventIds: string[]) =>
  db()
    .selectFrom('admin_fraud_signals')
    .select(['source_id', 'user_id', 'rules', 'subjects'])
    .where('source_id', 'in', orderEventIds)
    .execute();

const createdEvent = async (orderId: string) => {
  const [created] = await world.testApp.services.eventStore.readStream(`order-${orderId}`, { maxCount: 1 });
  expect(created?.type).toBe('OrderCreated');
  return created!;
};

const signalsOf = async (userIds: string[]) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*) AS n FROM admin_fraud_signals
        WHERE 'orders_per_account' = ANY(rules) AND user_id = ANY(${userIds}::uuid[])`.execute(db())
    ).rows[0]!.n,
  );

describe('orders per device', () => {
  it('orders of three accounts on one device add up to one case; a fourth order raises it; it is listed and decided like the others', async () => {
    const device = `install-${randomUUID()}`;
    const ring = await customers(3);
    for (const customer of ring) await signIn(customer, device);
    const ids = ring.map((customer) => customer.userId);
    await placed(ring[0]!);
    await placed(ring[1]!);
    await until(
      () => signalsOf(ids),
      (count) => count === 2,
      30_000,
    );
    expect(await deviceCases(ids)).toEqual([]);

    await placed(ring[2]!);
    const [opened] = await until(
      () => deviceCases(ids),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(opened).toMatchObject({ user_id: ring[2]!.userId, signals: 3, score: 50, status: 'open' });
    expect(opened!.reason).toBe(
      '3 orders placed by the accounts signed in on one device within 60 minutes (threshold 3)',
    );
    // The same keyed hash as the accounts-per-device rule's: neither the install id nor identity's hash.
    expect(opened!.subject).toMatch(/^device:[A-Za-z0-9_-]{16,}$/);
    expect(opened!.subject).not.toContain(device);
    const identityHashes = await db()
      .selectFrom('sessions')
      .select('device_hash')
      .where('user_id', 'in', ids)
      .where('device_hash', 'is not', null)
      .execute();
    expect(identityHashes.length).toBeGreaterThan(0);
    for (const row of identityHashes) expect(opened!.subject).not.toContain(row.device_hash!);

    await placed(ring[0]!);
    await until(
      () => deviceCases(ids),
      (rows) => rows.length === 1 && rows[0]!.signals === 4,
      30_000,
    );
    expect((await deviceCases(ids))[0]).toMatchObject({ id: opened!.id, score: 67 });

    const listed = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/admin/fraud/cases?status=open&limit=100',
      headers: authHeader(world.actors.admin.accessToken),
    });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items.find((item: { id: string }) => item.id === opened!.id)).toMatchObject({
      rule: 'orders_per_device',
      userId: ring[2]!.userId,
      subject: opened!.subject,
    });
    const decided = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/admin/fraud/cases/${opened!.id}/decision`,
      headers: authHeader(world.actors.admin.accessToken),
      payload: { decision: 'confirm', note: 'one handset, three accounts ordering' },
    });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json()).toMatchObject({ status: 'confirmed', rule: 'orders_per_device' });

    for (const testApp of instances()) {
      const logged = JSON.stringify(testApp.logs);
      expect(logged).not.toContain(device);
      for (const row of identityHashes) expect(logged).not.toContain(row.device_hash!);
    }
  });

  it('three accounts on three devices, each ordering, open nothing; their orders count against each own device', async () => {
    const spread = await customers(3);
    for (const customer of spread) await signIn(customer, `install-${randomUUID()}`);
    const ids = spread.map((customer) => customer.userId);
    for (const customer of spread) await placed(customer);
    const created = await until(
      () =>
        db()
          .selectFrom('admin_fraud_signals')
          .select(['rules', 'subjects'])
          .where('user_id', 'in', ids)
          .where(sql<boolean>`'orders_per_device' = ANY(rules)`)
          .execute(),
      (rows) => rows.length === 3,
      30_000,
    );
    expect(new Set(created.flatMap((row) => row.subjects)).size).toBe(3);
    expect(await deviceCases(ids)).toEqual([]);
  });

  it('two instances evaluating the tripping order at once open one case; a redelivery of every event changes nothing', async () => {
    for (const testApp of instances()) await testApp.services.admin.fraud.reactor.stop();
    const device = `install-${randomUUID()}`;
    const pair = await customers(2);
    for (const customer of pair) await signIn(customer, device);
    const ids = pair.map((customer) => customer.userId);
    const orders = [await placed(pair[0]!), await placed(pair[1]!), await placed(pair[0]!)];
    const events = await Promise.all(orders.map(createdEvent));
    const [first, secondOrder, tripping] = events;
    await world.testApp.services.admin.fraud.reactor.handle(first!);
    await second.services.admin.fraud.reactor.handle(secondOrder!);
    expect(await deviceCases(ids)).toEqual([]);

    // Both instances judge the third order at once: one signal, one case.
    await Promise.all(instances().map((testApp) => testApp.services.admin.fraud.reactor.handle(tripping!)));
    const cases = await deviceCases(ids);
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ user_id: pair[0]!.userId, signals: 3, score: 50 });
    const eventIds = events.map((event) => event.id);
    expect(await orderSignals(eventIds)).toHaveLength(3);

    // Redelivered by hand, racing, and by both reactors from their checkpoint.
    await Promise.all(
      events.flatMap((event) =>
        instances().map((testApp) => testApp.services.admin.fraud.reactor.handle(event)),
      ),
    );
    for (const testApp of instances()) await testApp.services.admin.fraud.reactor.start();
    const [marker] = await customers(1);
    await placed(marker!);
    await until(
      () => signalsOf([marker!.userId]),
      (count) => count === 1,
      30_000,
    );
    const after = await deviceCases(ids);
    expect(after).toHaveLength(1);
    expect(after[0]).toMatchObject({ id: cases[0]!.id, signals: 3, score: 50 });
    const signals = await orderSignals(eventIds);
    expect(signals).toHaveLength(3);
    for (const signal of signals) expect(signal.rules).toContain('orders_per_device');
    expect(JSON.stringify(signals)).not.toContain(device);
  });
});
