import { sql } from 'kysely';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePosition } from '../../../src/eventstore/position.js';
import type { TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { paymentsTestApp, topUp, until } from '../payments/helpers.js';

/**
 * Fraud detection (docs/admin.md): failed payments, from the real payment simulators (a phone
 * ending in 0001 fails), reach the admin context's reactor; thresholds of 3 per payment phone
 * and 3 per account within an hour.
 */
let testApp: TestApp;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await paymentsTestApp({
    FRAUD_FAILED_PAYMENTS_PER_PHONE: '3',
    FRAUD_FAILED_PAYMENTS_PER_ACCOUNT: '3',
    FRAUD_VELOCITY_WINDOW_MINUTES: '60',
  });
  admin = await createUser(testApp, { roles: ['admin'] });
}, 120_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.db;

async function failedTopUp(user: CreatedUser, phone: string): Promise<string> {
  const response = await topUp(testApp, user.accessToken, 1_000, phone);
  expect(response.statusCode, response.body).toBe(202);
  return response.json().payment.paymentId as string;
}

async function failedCount(): Promise<number> {
  return (
    await db().selectFrom('payment_attempts').select('payment_id').where('status', '=', 'FAILED').execute()
  ).length;
}

/**
 * The failed-payment rules' signals: one row per evaluated failure, holding the rules that fired
 * (the top-up and phone rules' rows are the payments' starts, other events).
 */
const signalsOf = async (userId: string) =>
  db()
    .selectFrom('admin_fraud_signals')
    .select(['source_id', 'rules', 'phone_subject'])
    .where('user_id', '=', userId)
    .where(sql<boolean>`rules && ARRAY['failed_payments_per_account', 'failed_payments_per_phone']`)
    .execute();

const casesOf = async (userIds: string[]) =>
  db()
    .selectFrom('admin_fraud_cases')
    .selectAll()
    .where('user_id', 'in', userIds)
    .orderBy('opened_at')
    .execute();

const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

describe('fraud rules over failed payments', () => {
  let a: CreatedUser;
  let b: CreatedUser;
  let c: CreatedUser;

  it('three failures from one payment phone across two accounts open a phone case, and no account case', async () => {
    a = await createUser(testApp, { roles: ['customer'] });
    b = await createUser(testApp, { roles: ['customer'] });
    const shared = '+237670450001';
    const before = await failedCount();
    await failedTopUp(a, shared);
    await failedTopUp(a, shared);
    await failedTopUp(b, shared);
    await until(failedCount, (count) => count >= before + 3, 20_000);
    await until(
      async () => (await signalsOf(a.userId)).length + (await signalsOf(b.userId)).length,
      (count) => count === 3,
      20_000,
    );
    // One row per evaluated failure, holding both rules that fired on it.
    for (const row of [...(await signalsOf(a.userId)), ...(await signalsOf(b.userId))]) {
      expect([...row.rules].sort()).toEqual(['failed_payments_per_account', 'failed_payments_per_phone']);
      expect(row.phone_subject).toMatch(/^phone:[A-Za-z0-9_-]{43}$/);
    }
    // The case is opened after the last signal is written: wait for it too.
    const cases = await until(
      () => casesOf([a.userId, b.userId]),
      (rows) => rows.length > 0,
    );
    expect(cases.map((row) => row.rule)).toEqual(['failed_payments_per_phone']);
    expect(cases[0]).toMatchObject({ status: 'open', signals: 3, score: 50 });
    expect(cases[0]!.reason).toBe('3 failed payments from one payment phone within 60 minutes (threshold 3)');
    // The phone is named by a keyed hash, never stored.
    expect(cases[0]!.subject).toMatch(/^phone:[A-Za-z0-9_-]{43}$/);
    expect(JSON.stringify(cases)).not.toContain('450001');
  });

  it('three failures by one account on three phones open an account case, and no phone case', async () => {
    c = await createUser(testApp, { roles: ['customer'] });
    for (const phone of ['+237670460001', '+237670470001', '+237670480001']) await failedTopUp(c, phone);
    const cases = await until(
      () => casesOf([c.userId]),
      (rows) => rows.length > 0 && (rows[0]?.signals ?? 0) >= 3,
      20_000,
    );
    expect(
      await until(
        () => signalsOf(c.userId),
        (rows) => rows.length === 3,
      ),
    ).toHaveLength(3);
    expect(cases.map((row) => row.rule)).toEqual(['failed_payments_per_account']);
    expect(cases[0]).toMatchObject({
      subject: `user:${c.userId}`,
      user_id: c.userId,
      signals: 3,
      status: 'open',
    });
  });

  it('an opened case is an alert on the admin audience', async () => {
    const { messages } = await testApp.services.realtime.bus.history('admin', '0-0', 100);
    const alerts = messages.filter((message) => message.type === 'fraud-case');
    const ids = (await casesOf([a.userId, b.userId, c.userId])).map((row) => row.id);
    expect(alerts.map((message) => message.data.caseId).sort()).toEqual([...ids].sort());
    expect(alerts[0]!.channel).toBe('system-alerts');
  });

  it('events delivered again (a reactor rewound to an earlier checkpoint) count once and open no second case', async () => {
    const reactor = testApp.services.admin.fraud.reactor;
    await reactor.stop();
    const signals = (await db().selectFrom('admin_fraud_signals').select('source_id').execute()).length;
    await db().deleteFrom('admin_reactor_checkpoints').where('name', '=', 'admin-fraud').execute();
    // Back to the first position ever: every failed payment is delivered again.
    await db()
      .insertInto('admin_reactor_checkpoints')
      .values({ name: 'admin-fraud', position: encodePosition(0n, 0n) })
      .execute();
    await reactor.start();
    await until(
      async () =>
        (
          await db()
            .selectFrom('admin_reactor_checkpoints')
            .select('position')
            .where('name', '=', 'admin-fraud')
            .executeTakeFirst()
        )?.position,
      // One batch (up to 100 events) holds every failed payment of this file: once the rewound
      // reactor saved a checkpoint past the start, it was handed all of them again.
      (position) => position !== undefined && position !== encodePosition(0n, 0n),
      20_000,
    );
    expect((await db().selectFrom('admin_fraud_signals').select('source_id').execute()).length).toBe(signals);
    expect(await casesOf([a.userId, b.userId, c.userId])).toHaveLength(2);
  });
});

describe('fraud records and the person', () => {
  it('the export lists the cases about a person; erasure (DELETE /v1/me) unlinks them and keeps the counts', async () => {
    const person = await createUser(testApp, { roles: ['customer'] });
    for (const phone of ['+237670510001', '+237670520001', '+237670530001']) await failedTopUp(person, phone);
    await until(
      () => casesOf([person.userId]),
      (rows) => rows.length === 1,
      20_000,
    );
    const hook = testApp.services.platform.personalData.get('admin')!;
    const contacts = { phone: person.phone, email: null };
    const exported = (await hook.export!(person.userId, contacts)) as { fraudCases: { rule: string }[] };
    expect(exported.fraudCases.map((row) => row.rule)).toEqual(['failed_payments_per_account']);

    const erased = await testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me',
      headers: authHeader(person.accessToken),
      payload: { password: person.password },
    });
    expect(erased.statusCode, erased.body).toBeLessThan(300);
    expect(await casesOf([person.userId])).toHaveLength(0);
    expect(await signalsOf(person.userId)).toHaveLength(0);
    const remaining = await db()
      .selectFrom('admin_fraud_cases')
      .selectAll()
      .where('subject', 'like', 'erased:%')
      .execute();
    expect(remaining).toHaveLength(1);
    expect(remaining[0]).toMatchObject({ rule: 'failed_payments_per_account', signals: 3, user_id: null });
    expect(JSON.stringify(remaining)).not.toContain(person.userId);
    // Idempotent: nothing is left to unlink.
    expect(await hook.erase(person.userId, contacts)).toEqual({ signalsUnlinked: 0, casesUnlinked: 0 });
  });
});

describe('fraud cases: review', () => {
  it('other roles get 403; admins list cases newest first, by status, in cursor pages', async () => {
    for (const role of ['customer', 'support', 'driver', 'restaurant_owner'] as const) {
      const user = await createUser(testApp, { roles: [role] });
      expect((await inject('GET', '/v1/admin/fraud/cases', user.accessToken)).statusCode).toBe(403);
      const decided = await inject(
        'POST',
        `/v1/admin/fraud/cases/${randomUUID()}/decision`,
        user.accessToken,
        {
          decision: 'dismiss',
          note: 'nope',
        },
      );
      expect(decided.statusCode).toBe(403);
    }
    const first = await inject('GET', '/v1/admin/fraud/cases?status=open&limit=1', admin.accessToken);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json().items).toHaveLength(1);
    const second = await inject(
      'GET',
      `/v1/admin/fraud/cases?status=open&limit=1&cursor=${first.json().nextCursor}`,
      admin.accessToken,
    );
    expect(second.json().items).toHaveLength(1);
    expect(second.json().items[0].id).not.toBe(first.json().items[0].id);
    expect(Date.parse(second.json().items[0].openedAt)).toBeLessThanOrEqual(
      Date.parse(first.json().items[0].openedAt),
    );
    expect((await inject('GET', '/v1/admin/fraud/cases?cursor=bogus', admin.accessToken)).statusCode).toBe(
      400,
    );
    expect((await inject('GET', '/v1/admin/fraud/cases?status=closed', admin.accessToken)).statusCode).toBe(
      400,
    );
  });

  it('an admin dismisses a case with a note (audited); a second decision is 409; bad input is 400 and changes nothing', async () => {
    const [open] = (await inject('GET', '/v1/admin/fraud/cases?status=open', admin.accessToken)).json()
      .items as {
      id: string;
    }[];
    const url = `/v1/admin/fraud/cases/${open!.id}/decision`;
    for (const body of [
      { decision: 'dismiss', note: '   ' },
      { decision: 'dismiss', note: null },
      { decision: 'forgive', note: 'Known customer' },
      { decision: 'dismiss', note: 'x'.repeat(501) },
      { decision: 'dismiss', note: 'ok\u0000' },
      { decision: 'dismiss' },
    ]) {
      const response = await inject('POST', url, admin.accessToken, body);
      expect(response.statusCode, JSON.stringify(body).slice(0, 80)).toBe(400);
    }
    expect(
      (
        await db()
          .selectFrom('admin_fraud_cases')
          .select('status')
          .where('id', '=', open!.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('open');

    const decided = await inject('POST', url, admin.accessToken, {
      decision: 'dismiss',
      note: 'Network outage at MTN',
    });
    expect(decided.statusCode, decided.body).toBe(200);
    expect(decided.json()).toMatchObject({
      status: 'dismissed',
      decidedBy: admin.userId,
      decisionNote: 'Network outage at MTN',
    });
    const again = await inject('POST', url, admin.accessToken, {
      decision: 'confirm',
      note: 'Changed my mind',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'case_already_decided', caseStatus: 'dismissed' });
    const audit = await db()
      .selectFrom('audit_logs')
      .select(['action', 'actor_id', 'new_value'])
      .where('resource', '=', `fraud_case:${open!.id}`)
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'admin.fraud_case_decided', actor_id: admin.userId });
    expect(
      (
        await inject('POST', `/v1/admin/fraud/cases/${randomUUID()}/decision`, admin.accessToken, {
          decision: 'confirm',
          note: 'Fraud ring',
        })
      ).statusCode,
    ).toBe(404);
  });
});
