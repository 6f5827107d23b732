import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEDGER_PROJECTION } from '../../../ledger/projections/index.js';
import { policyLines } from '../../../src/modules/admin/retention.js';
import { ledgerSeedStep } from '../../../src/modules/ledger/seed.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { until } from '../payments/helpers.js';

/**
 * The data-retention policy (docs/admin.md "Data retention"): kinds registered by identity, notify
 * and admin; periods set at run time (validated, audited); the job deletes what is older than its
 * kind's period, again deletes nothing, and never touches money records (ledger, events, payments).
 */
let testApp: TestApp;
let admin: CreatedUser;
let customer: CreatedUser;
const DAY_MS = 86_400_000;

beforeAll(async () => {
  testApp = await createTestApp({ env: { FRAUD_VELOCITY_WINDOW_MINUTES: '60' } });
  admin = await createUser(testApp, { roles: ['admin'] });
  customer = await createUser(testApp, { roles: ['customer'] });
  await ledgerSeedStep.run(testApp.services);
  await testApp.services.projections.waitUntilCaughtUp(LEDGER_PROJECTION, 20_000);
}, 120_000);
afterAll(async () => testApp?.close());

const db = () => testApp.services.db;
const call = (method: 'GET' | 'PUT' | 'POST', url: string, token: string | null, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: token === null ? {} : authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const daysAgo = (days: number) => new Date(Date.now() - days * DAY_MS);

/** Rows of each kind: one old (200 days), one recent (a day); returns their markers. */
async function plant(marker: string) {
  await db()
    .insertInto('login_attempts')
    .values(
      [200, 1].map((days) => ({
        identifier_hash: `${marker}-${days}`,
        identifier_masked: '+2376••••••00',
        success: false,
        reason: 'bad_password',
        attempted_at: daysAgo(days),
      })),
    )
    .execute();
  await db()
    .insertInto('notification_dead_letters')
    .values(
      [200, 1].map((days) => ({
        intent_id: randomUUID(),
        channel: 'sms',
        queue: `${marker}-${days}`,
        reason: 'gave up',
        attempts: 5,
        created_at: daysAgo(days),
      })),
    )
    .execute();
  // USSD orders' SMS records: settled 40 days ago (purged after 30), settled yesterday (kept), and
  // still owed since 40 days (never purged: the sweep owes it).
  const smsIds = { old: randomUUID(), recent: randomUUID(), owed: randomUUID() };
  await sql`INSERT INTO ussd_order_sms (order_id, user_id, language, status, created_at, updated_at)
    VALUES (${smsIds.old}, ${customer.userId}, 'fr', 'sent', ${daysAgo(40)}, ${daysAgo(40)}),
      (${smsIds.recent}, ${customer.userId}, 'fr', 'void', ${daysAgo(1)}, ${daysAgo(1)}),
      (${smsIds.owed}, ${customer.userId}, 'en', 'pending', ${daysAgo(40)}, ${daysAgo(40)})`.execute(db());
  planted.set(marker, smsIds);
  await db()
    .insertInto('admin_fraud_signals')
    .values(
      [200, 1].map((days) => ({
        source_id: `${marker}-${days}`,
        rules: ['orders_per_account'],
        user_id: customer.userId,
        at: daysAgo(days),
      })),
    )
    .execute();
}

const planted = new Map<string, { old: string; recent: string; owed: string }>();

async function remaining(marker: string) {
  const attempts = await db()
    .selectFrom('login_attempts')
    .select('identifier_hash as id')
    .where('identifier_hash', 'like', `${marker}-%`)
    .execute();
  const letters = await db()
    .selectFrom('notification_dead_letters')
    .select('queue as id')
    .where('queue', 'like', `${marker}-%`)
    .execute();
  const signals = await db()
    .selectFrom('admin_fraud_signals')
    .select('source_id as id')
    .where('source_id', 'like', `${marker}-%`)
    .execute();
  const ids = (rows: { id: string }[]) => rows.map((row) => row.id).sort();
  const sms = planted.get(marker) ?? {};
  const smsLeft = await db()
    .selectFrom('ussd_order_sms' as never)
    .select('order_id as id' as never)
    .where('order_id' as never, 'in', [...Object.values(sms), randomUUID()] as never)
    .execute();
  const names = new Map(Object.entries(sms).map(([name, id]) => [id, name]));
  return {
    attempts: ids(attempts),
    letters: ids(letters),
    signals: ids(signals),
    sms: (smsLeft as { id: string }[]).map((row) => names.get(row.id)!).sort(),
  };
}

async function moneyCounts() {
  const count = async (table: string) =>
    Number(
      (await sql<{ n: string }>`SELECT count(*)::text AS n FROM ${sql.table(table)}`.execute(db())).rows[0]!
        .n,
    );
  return {
    events: await count('eventstore_events'),
    entries: await count('ledger_entries'),
    payments: await count('payment_attempts'),
    payouts: await count('payouts'),
    audit: await count('audit_logs'),
  };
}

describe('data retention', () => {
  it('lists every registered kind with its default period, and no money kind', async () => {
    const response = await call('GET', '/v1/admin/retention', admin.accessToken);
    expect(response.statusCode, response.body).toBe(200);
    const kinds = response.json().kinds as { kind: string; days: number; minimumDays: number }[];
    expect(kinds.map((line) => line.kind)).toEqual([
      'admin.fraud_signals',
      'identity.login_attempts',
      'notify.dead_letters',
      'ussd.order_sms',
    ]);
    expect(kinds.map((line) => line.days)).toEqual([90, 90, 90, 30]);
    expect(kinds.some((line) => /ledger|payment|payout|eventstore|settlement/.test(line.kind))).toBe(false);
  });

  it('the job deletes what is older than each period, and only that; again it deletes nothing; money untouched', async () => {
    await plant('r1');
    const before = await moneyCounts();
    const run = await call('POST', '/v1/admin/retention/runs', admin.accessToken);
    expect(run.statusCode, run.body).toBe(200);
    expect(run.json().failed).toEqual([]);
    for (const kind of [
      'admin.fraud_signals',
      'identity.login_attempts',
      'notify.dead_letters',
      'ussd.order_sms',
    ])
      expect(run.json().deleted[kind]).toBeGreaterThanOrEqual(1);
    expect(await remaining('r1')).toEqual({
      attempts: ['r1-1'],
      letters: ['r1-1'],
      signals: ['r1-1'],
      sms: ['owed', 'recent'],
    });
    // Idempotent: nothing more to delete.
    const again = (await call('POST', '/v1/admin/retention/runs', admin.accessToken)).json();
    expect(Object.values(again.deleted)).toEqual([0, 0, 0, 0]);
    expect(await remaining('r1')).toEqual({
      attempts: ['r1-1'],
      letters: ['r1-1'],
      signals: ['r1-1'],
      sms: ['owed', 'recent'],
    });
    const after = await moneyCounts();
    expect({ ...after, audit: 0 }).toEqual({ ...before, audit: 0 });
    // Each run is one audit line by the system, with what it deleted.
    const lines = await db()
      .selectFrom('audit_logs')
      .select(['actor_kind', 'new_value'])
      .where('action', '=', 'admin.retention_applied')
      .execute();
    expect(lines).toHaveLength(2);
    expect(lines.every((line) => line.actor_kind === 'system')).toBe(true);
    expect(after.audit).toBe(before.audit + 2);
  });

  it('the nightly job (queued as the schedule does) applies the same policy', async () => {
    await plant('r2');
    const { jobs } = testApp.services;
    await jobs.queue.enqueue(
      'admin-retention',
      { at: new Date().toISOString() },
      { jobId: `admin-retention-test-${randomUUID()}` },
    );
    const left = await until(
      () => remaining('r2'),
      (rows) =>
        rows.attempts.length === 1 &&
        rows.letters.length === 1 &&
        rows.signals.length === 1 &&
        rows.sms.length === 2,
      30_000,
    );
    expect(left).toEqual({
      attempts: ['r2-1'],
      letters: ['r2-1'],
      signals: ['r2-1'],
      sms: ['owed', 'recent'],
    });
    expect(jobs.schedules().map((schedule) => schedule.name)).toContain('admin-retention-nightly');
  });

  it('a period set by an admin applies (audited); out of range, unknown kinds, bad bodies and stale versions change nothing', async () => {
    const policy = (await call('GET', '/v1/admin/retention', admin.accessToken)).json();
    const set = await call('PUT', '/v1/admin/retention', admin.accessToken, {
      days: { 'notify.dead_letters': 7 },
      expectedVersion: policy.version,
    });
    expect(set.statusCode, set.body).toBe(200);
    const line = set.json().kinds.find((item: { kind: string }) => item.kind === 'notify.dead_letters');
    expect(line).toMatchObject({ configuredDays: 7, days: 7 });
    const version = set.json().version as number;
    await db()
      .insertInto('notification_dead_letters')
      .values({
        intent_id: randomUUID(),
        channel: 'sms',
        queue: 'r3-10',
        reason: 'gave up',
        attempts: 5,
        created_at: daysAgo(10),
      })
      .execute();
    await call('POST', '/v1/admin/retention/runs', admin.accessToken);
    expect((await remaining('r3')).letters).toEqual([]);

    const refused = [
      [{ days: { 'notify.dead_letters': 6 } }, 400, 'retention_days_out_of_range'],
      [{ days: { 'admin.fraud_signals': 1 } }, 400, 'retention_days_out_of_range'],
      [{ days: { 'ledger.entries': 30 } }, 400, 'retention_kind_unknown'],
      [{ days: { 'notify.dead_letters': 99_999 } }, 400, undefined],
      [{ days: { 'notify.dead_letters': '30' } }, 400, undefined],
      [{ days: {} }, 400, undefined],
      [{ days: null }, 400, undefined],
      [{ days: { 'notify.dead_letters\u0000': 30 } }, 400, undefined],
      [{ days: { 'notify.dead_letters': 30 }, extra: true }, 400, undefined],
      [{ days: { 'notify.dead_letters': 30 }, expectedVersion: version - 1 }, 409, 'retention_changed'],
    ] as const;
    for (const [body, status, code] of refused) {
      const response = await call('PUT', '/v1/admin/retention', admin.accessToken, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      if (code !== undefined) expect(response.json().code).toBe(code);
    }
    expect((await call('GET', '/v1/admin/retention', admin.accessToken)).json().version).toBe(version);
    // Reset to the default with null.
    const reset = await call('PUT', '/v1/admin/retention', admin.accessToken, {
      days: { 'notify.dead_letters': null },
    });
    expect(
      reset.json().kinds.find((item: { kind: string }) => item.kind === 'notify.dead_letters'),
    ).toMatchObject({ configuredDays: null, days: 90 });
    const audited = await db()
      .selectFrom('audit_logs')
      .select(['old_value', 'new_value'])
      .where('action', '=', 'admin.retention_changed')
      .orderBy('created_at')
      .execute();
    expect(audited).toHaveLength(2);
    expect(audited[0]!.new_value).toEqual({ 'notify.dead_letters': 7 });
  });

  it('admins only: a customer 403, no token 401', async () => {
    for (const [method, url, body] of [
      ['GET', '/v1/admin/retention', undefined],
      ['PUT', '/v1/admin/retention', { days: { 'notify.dead_letters': 30 } }],
      ['POST', '/v1/admin/retention/runs', undefined],
    ] as const) {
      expect((await call(method, url, customer.accessToken, body)).statusCode).toBe(403);
      expect((await call(method, url, null, body)).statusCode).toBe(401);
    }
  });

  it('a stored period that is no longer valid falls back to the default (pure)', () => {
    const kind = { kind: 'x.y', description: '', defaultDays: 30, minimumDays: 10, purge: async () => 0 };
    expect(policyLines([kind], { 'x.y': 5 })[0]).toMatchObject({ configuredDays: null, days: 30 });
    expect(policyLines([kind], { 'x.y': 12 })[0]).toMatchObject({ configuredDays: 12, days: 12 });
    expect(policyLines([kind], { 'x.y': '12' })[0]).toMatchObject({ days: 30 });
  });
});
