import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { AUTH_TEST_ENV, authHeader, createUser, login, type CreatedUser } from '../../helpers/auth.js';
import { paymentsTestApp, topUp, until, wallet } from '../payments/helpers.js';

/**
 * The admin context (docs/admin.md): feature flags, maintenance mode, bulk user actions and the
 * audited user view, over the real app (PostgreSQL, Redis, the payment simulators listening on
 * loopback so their webhooks reach the app) and a second instance on the same database.
 */
let testApp: TestApp;
let second: TestApp;
let admin: CreatedUser;
let customer: CreatedUser;
let support: CreatedUser;
let others: CreatedUser[];

const CACHE_MS = 200;
/** Two instances of one deployment: one database, one Redis prefix, the same secrets. */
const shared = {
  ...AUTH_TEST_ENV,
  ADMIN_SETTINGS_CACHE_MS: String(CACHE_MS),
  REDIS_KEY_PREFIX: `adm${randomBytes(3).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
};

beforeAll(async () => {
  // The simulator settles a payment after 1.5 s and polling waits a minute: a top-up started
  // just before maintenance is booked by the provider's webhook during it.
  testApp = await paymentsTestApp({
    ...shared,
    PAYMENT_SIMULATOR_DELAY_MS: '1500',
    PAYMENT_POLL_INITIAL_DELAY_MS: '60000',
  });
  second = await createTestApp({
    database: testApp.database,
    keepDatabase: true,
    env: shared,
  });
  admin = await createUser(testApp, { roles: ['admin'] });
  customer = await createUser(testApp, { roles: ['customer'] });
  support = await createUser(testApp, { roles: ['support'] });
  others = await Promise.all(
    (['customer', 'restaurant_owner', 'driver', 'support'] as const).map((role) =>
      createUser(testApp, { roles: [role] }),
    ),
  );
}, 120_000);
afterAll(async () => {
  await second?.close();
  await testApp?.close();
});

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
const call = (
  app: TestApp,
  method: Method,
  url: string,
  token?: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  app.app.inject({
    method,
    url,
    headers: { ...(token === undefined ? {} : authHeader(token)), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const auditOf = async (resource: string) =>
  testApp.services.db
    .selectFrom('audit_logs')
    .select(['action', 'actor_id', 'subject_user_id', 'old_value', 'new_value'])
    .where('resource', '=', resource)
    .orderBy('id')
    .execute();

const flagCount = async () =>
  (await testApp.services.db.selectFrom('admin_feature_flags').select('key').execute()).length;

const flagBody = (overrides: Record<string, unknown> = {}) => ({
  enabled: true,
  roles: [],
  percentage: 100,
  cities: [],
  ...overrides,
});

describe('admin routes: admins only', () => {
  const routes: [Method, string, unknown?][] = [
    ['GET', '/v1/admin/feature-flags'],
    ['GET', '/v1/admin/feature-flags/some-flag'],
    ['PUT', '/v1/admin/feature-flags/some-flag', flagBody()],
    ['DELETE', '/v1/admin/feature-flags/some-flag'],
    ['GET', '/v1/admin/maintenance'],
    ['PUT', '/v1/admin/maintenance', { enabled: true, message: 'x' }],
    ['POST', '/v1/admin/users/bulk', { action: 'logout', userIds: [randomUUID()], dryRun: true }],
  ];

  it('customers, restaurant owners, drivers and support get 403 on every admin route and change nothing', async () => {
    for (const user of others) {
      for (const [method, url, body] of routes) {
        const response = await call(testApp, method, url, user.accessToken, body);
        expect(response.statusCode, `${user.roles[0]} ${method} ${url}`).toBe(403);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().code).toBe('permission_denied');
      }
    }
    expect(await flagCount()).toBe(0);
    expect((await call(testApp, 'GET', '/v1/maintenance')).json().enabled).toBe(false);
  });

  it('without a token: 401', async () => {
    for (const [method, url, body] of routes) {
      expect((await call(testApp, method, url, undefined, body)).statusCode, `${method} ${url}`).toBe(401);
    }
  });
});

describe('feature flags', () => {
  it('an admin creates a flag (version 1), changes it on the version read (2); both audited with the admin', async () => {
    const created = await call(testApp, 'PUT', '/v1/admin/feature-flags/new-checkout', admin.accessToken, {
      ...flagBody({ roles: ['customer'], cities: ['Douala', 'douala'] }),
      description: 'The new checkout screen',
      expectedVersion: 0,
    });
    expect(created.statusCode, created.body).toBe(200);
    expect(created.json()).toMatchObject({
      key: 'new-checkout',
      version: 1,
      cities: ['douala'],
      roles: ['customer'],
    });
    expect(created.json().updatedBy).toBe(admin.userId);

    const changed = await call(testApp, 'PUT', '/v1/admin/feature-flags/new-checkout', admin.accessToken, {
      ...flagBody({ roles: ['customer'], cities: ['douala', 'yaounde'], percentage: 50 }),
      expectedVersion: 1,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      version: 2,
      percentage: 50,
      description: 'The new checkout screen',
    });

    const audit = await auditOf('feature_flag:new-checkout');
    expect(audit.map((line) => line.action)).toEqual(['admin.flag_created', 'admin.flag_changed']);
    expect(audit.every((line) => line.actor_id === admin.userId)).toBe(true);
    expect(audit[1]!.old_value).toMatchObject({ percentage: 100, version: 1 });
    expect(audit[1]!.new_value).toMatchObject({ percentage: 50, version: 2 });

    const listed = await call(testApp, 'GET', '/v1/admin/feature-flags', admin.accessToken);
    expect(listed.json().items.map((flag: { key: string }) => flag.key)).toEqual(['new-checkout']);
  });

  it('a change decided on an old version is 409 flag_changed and changes nothing; so is creating one that exists', async () => {
    for (const expectedVersion of [1, 0]) {
      const stale = await call(testApp, 'PUT', '/v1/admin/feature-flags/new-checkout', admin.accessToken, {
        ...flagBody({ percentage: 5 }),
        expectedVersion,
      });
      expect(stale.statusCode).toBe(409);
      expect(stale.json()).toMatchObject({ code: 'flag_changed', version: 2 });
    }
    const flag = await call(testApp, 'GET', '/v1/admin/feature-flags/new-checkout', admin.accessToken);
    expect(flag.json()).toMatchObject({ version: 2, percentage: 50 });
    expect(await auditOf('feature_flag:new-checkout')).toHaveLength(2);
  });

  it('bad input is a 400 problem and changes nothing: null, wrong types, unknown role, out of range, NUL, huge, bad key', async () => {
    const bad: [string, unknown][] = [
      ['new-checkout', { ...flagBody(), enabled: null }],
      ['new-checkout', { ...flagBody(), percentage: '50' }],
      ['new-checkout', { ...flagBody(), percentage: 101 }],
      ['new-checkout', { ...flagBody(), percentage: 12.5 }],
      ['new-checkout', { ...flagBody(), roles: ['superuser'] }],
      ['new-checkout', { ...flagBody(), cities: ['douala', 'douala'] }],
      ['new-checkout', { ...flagBody(), cities: ['Paris!'] }],
      ['new-checkout', { ...flagBody(), description: 'a\u0000b' }],
      ['new-checkout', { ...flagBody(), description: 'x'.repeat(100_000) }],
      ['new-checkout', { ...flagBody(), extra: true }],
      ['new-checkout', null],
      ['Bad Key', flagBody()],
      ['x', flagBody()],
      ['a'.repeat(65), flagBody()],
    ];
    for (const [key, body] of bad) {
      const response = await call(
        testApp,
        'PUT',
        `/v1/admin/feature-flags/${encodeURIComponent(key)}`,
        admin.accessToken,
        body,
      );
      expect(response.statusCode, `${key} ${JSON.stringify(body)?.slice(0, 80)}`).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    const flag = await call(testApp, 'GET', '/v1/admin/feature-flags/new-checkout', admin.accessToken);
    expect(flag.json()).toMatchObject({ version: 2, percentage: 50 });
    expect(await flagCount()).toBe(1);
  });

  it('the caller’s flags: by role and city; the same answer on another instance for the same user at 50 %', async () => {
    await call(
      testApp,
      'PUT',
      '/v1/admin/feature-flags/douala-only',
      admin.accessToken,
      flagBody({ cities: ['douala'] }),
    );
    const inDouala = await call(testApp, 'GET', '/v1/feature-flags?city=douala', customer.accessToken);
    expect(inDouala.statusCode, inDouala.body).toBe(200);
    expect(inDouala.json().flags['douala-only']).toBe(true);
    const inYaounde = await call(testApp, 'GET', '/v1/feature-flags?city=yaounde', customer.accessToken);
    expect(inYaounde.json().flags['douala-only']).toBe(false);
    const inBafoussam = await call(testApp, 'GET', '/v1/feature-flags?city=bafoussam', customer.accessToken);
    expect(inBafoussam.json().flags['new-checkout']).toBe(false);
    expect(
      (await call(testApp, 'GET', '/v1/feature-flags', customer.accessToken)).json().flags['new-checkout'],
    ).toBe(false);
    const driver = others.find((user) => user.roles.includes('driver'))!;
    const driverFlags = await call(testApp, 'GET', '/v1/feature-flags?city=douala', driver.accessToken);
    expect(driverFlags.json().flags['new-checkout']).toBe(false);

    // 50 % of customers in Douala: each one's answer is the same on both instances and through the API
    // other contexts import.
    const customers = await Promise.all(
      Array.from({ length: 12 }, () => createUser(testApp, { roles: ['customer'] })),
    );
    const answers: boolean[] = [];
    for (const user of customers) {
      const here = (await call(testApp, 'GET', '/v1/feature-flags?city=douala', user.accessToken)).json()
        .flags;
      const there = await until(
        async () =>
          (await call(second, 'GET', '/v1/feature-flags?city=douala', user.accessToken)).json().flags,
        (flags: Record<string, boolean>) => 'new-checkout' in flags && 'douala-only' in flags,
      );
      expect(there['new-checkout']).toBe(here['new-checkout']);
      const imported = await second.services.admin.featureFlags.isEnabled('new-checkout', {
        userId: user.userId,
        roles: ['customer'],
        city: 'douala',
      });
      expect(imported).toBe(here['new-checkout']);
      answers.push(here['new-checkout'] as boolean);
    }
    expect(answers).toContain(true);
    expect(answers).toContain(false);
  });

  it('a change reaches the other instance within the cache time', async () => {
    await call(
      testApp,
      'PUT',
      '/v1/admin/feature-flags/douala-only',
      admin.accessToken,
      flagBody({ enabled: false }),
    );
    const started = Date.now();
    await until(
      () => second.services.admin.featureFlags.isEnabled('douala-only', { city: 'douala' }),
      (enabled) => !enabled,
    );
    // Not a timing assertion on the machine: the copy is read again after CACHE_MS, with slack for a loaded CI.
    expect(Date.now() - started).toBeLessThan(CACHE_MS + 5_000);
  });

  it('DELETE removes a flag (audited); it then evaluates to false; a second DELETE is 404', async () => {
    const deleted = await call(testApp, 'DELETE', '/v1/admin/feature-flags/douala-only', admin.accessToken);
    expect(deleted.statusCode, deleted.body).toBe(204);
    expect((await auditOf('feature_flag:douala-only')).map((line) => line.action).at(-1)).toBe(
      'admin.flag_deleted',
    );
    expect(await testApp.services.admin.featureFlags.isEnabled('douala-only', { city: 'douala' })).toBe(
      false,
    );
    const again = await call(testApp, 'DELETE', '/v1/admin/feature-flags/douala-only', admin.accessToken);
    expect(again.statusCode).toBe(404);
    expect(again.json().code).toBe('not_found');
  });
});

describe('maintenance mode', () => {
  afterAll(async () => {
    await call(testApp, 'PUT', '/v1/admin/maintenance', admin.accessToken, { enabled: false });
  });

  it('switching on needs a message, and an end in the future; bad input changes nothing', async () => {
    const bad: unknown[] = [
      { enabled: true },
      { enabled: true, message: '   ' },
      { enabled: true, message: 'Back soon', until: new Date(Date.now() - 60_000).toISOString() },
      { enabled: true, message: 'Back soon', until: 'tomorrow' },
      { enabled: 'true', message: 'Back soon' },
      { enabled: null },
      { enabled: true, message: 'x'.repeat(301) },
      { enabled: true, message: 'a\u0000b' },
    ];
    for (const body of bad) {
      const response = await call(testApp, 'PUT', '/v1/admin/maintenance', admin.accessToken, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
    expect((await call(testApp, 'GET', '/v1/maintenance')).json().enabled).toBe(false);
    expect(await auditOf('setting:maintenance')).toHaveLength(0);
  });

  it('on: non-staff writes are 503 with the message on every instance; reads, staff, sign-in and webhooks go on; the top-up is booked', async () => {
    // A top-up started before maintenance: its provider confirms it by webhook during maintenance.
    const payer = await createUser(testApp, { roles: ['customer'] });
    const started = await topUp(testApp, payer.accessToken, 2_000, '+237670123456');
    expect(started.statusCode, started.body).toBe(202);

    const until_ = new Date(Date.now() + 30 * 60_000).toISOString();
    const on = await call(testApp, 'PUT', '/v1/admin/maintenance', admin.accessToken, {
      enabled: true,
      message: 'Maintenance de la base : retour vers 03h00.',
      until: until_,
    });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({ enabled: true, until: until_ });

    for (const instance of [testApp, second]) {
      // Each instance applies the setting within its cache time: wait on its own view (a read), so
      // the write below is the only one tried (a write polled until refused could land first).
      await until(
        async () => (await call(instance, 'GET', '/v1/maintenance')).json().enabled as boolean,
        (enabled) => enabled,
      );
      const refused = await call(instance, 'PATCH', '/v1/me', customer.accessToken, { locale: 'en' });
      expect(refused.statusCode, refused.body).toBe(503);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.json()).toMatchObject({ code: 'maintenance_mode', until: until_ });
      expect(refused.json().message).toBe('Maintenance de la base : retour vers 03h00.');
      const retryAfter = Number(refused.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(1_700);
      expect(retryAfter).toBeLessThanOrEqual(1_800);
    }
    // Nothing was written by the refused request.
    const me = await call(testApp, 'GET', '/v1/me', customer.accessToken);
    expect(me.statusCode).toBe(200);
    expect(me.json().locale).not.toBe('en');
    // A new top-up is refused: money does not start moving during maintenance.
    expect((await topUp(testApp, payer.accessToken, 1_000, '+237670123456')).statusCode).toBe(503);

    // Staff still work; sign-in still works; the public notice says so.
    expect((await call(testApp, 'PATCH', '/v1/me', support.accessToken, { locale: 'en' })).statusCode).toBe(
      200,
    );
    expect((await call(testApp, 'PATCH', '/v1/me', admin.accessToken, { locale: 'en' })).statusCode).toBe(
      200,
    );
    expect((await login(testApp, { phone: customer.phone, password: customer.password })).statusCode).toBe(
      200,
    );
    const notice = await call(second, 'GET', '/v1/maintenance');
    expect(notice.json()).toMatchObject({
      enabled: true,
      message: 'Maintenance de la base : retour vers 03h00.',
    });

    // The provider's webhook arrives during maintenance and the payment is booked on the ledger.
    const balance = await until(
      () => wallet(testApp, payer.accessToken),
      (w) => w.balanceMinor === 2_000,
      15_000,
    );
    expect(balance.balanceMinor).toBe(2_000);
    const paymentId = started.json().payment.paymentId as string;
    const settled = await until(
      () =>
        testApp.services.db
          .selectFrom('payment_attempts')
          .select(['status', 'settled_at'])
          .where('payment_id', '=', paymentId)
          .executeTakeFirstOrThrow(),
      (row) => row.settled_at !== null,
    );
    const switchedOn = await testApp.services.db
      .selectFrom('admin_settings')
      .select('updated_at')
      .where('key', '=', 'maintenance')
      .executeTakeFirstOrThrow();
    expect(settled.status).toBe('SUCCEEDED');
    expect(settled.settled_at!.getTime()).toBeGreaterThan(switchedOn.updated_at.getTime());
    expect((await call(testApp, 'GET', '/v1/maintenance')).json().enabled).toBe(true);
  });

  it('off: writes work again on every instance; both changes are audited with the admin', async () => {
    const off = await call(testApp, 'PUT', '/v1/admin/maintenance', admin.accessToken, { enabled: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toEqual({ enabled: false, message: '', until: null });
    for (const instance of [testApp, second]) {
      await until(
        async () =>
          (await call(instance, 'PATCH', '/v1/me', customer.accessToken, { locale: 'en' })).statusCode,
        (statusCode) => statusCode === 200,
      );
    }
    const audit = await auditOf('setting:maintenance');
    expect(audit.map((line) => line.action)).toEqual([
      'admin.maintenance_changed',
      'admin.maintenance_changed',
    ]);
    expect(audit.every((line) => line.actor_id === admin.userId)).toBe(true);
    expect(audit[1]!.old_value).toMatchObject({ enabled: true });
    expect(audit[1]!.new_value).toMatchObject({ enabled: false });
  });
});

describe('users: audited view and bulk actions', () => {
  it('an admin’s view of a user is audited; the audit log lists who looked', async () => {
    const viewed = await call(testApp, 'GET', `/v1/admin/users/${customer.userId}`, admin.accessToken);
    expect(viewed.statusCode).toBe(200);
    const trail = await call(
      testApp,
      'GET',
      `/v1/admin/audit-logs?subjectUserId=${customer.userId}&action=admin.user_viewed`,
      admin.accessToken,
    );
    expect(trail.statusCode).toBe(200);
    expect(trail.json().items[0]).toMatchObject({ action: 'admin.user_viewed', actorId: admin.userId });
  });

  const bulk = (body: unknown, headers: Record<string, string> = {}) =>
    call(testApp, 'POST', '/v1/admin/users/bulk', admin.accessToken, body, headers);
  const statusOf = async (userId: string) =>
    (
      await testApp.services.db
        .selectFrom('users')
        .select('status')
        .where('id', '=', userId)
        .executeTakeFirstOrThrow()
    ).status;

  it('dry run: a result per user, nothing changes, tokens keep working', async () => {
    const targets = await Promise.all([1, 2].map(() => createUser(testApp, { roles: ['customer'] })));
    const suspended = await createUser(testApp, { roles: ['customer'], status: 'suspended' });
    const otherAdmin = await createUser(testApp, { roles: ['admin'] });
    const missing = randomUUID();
    const ids = [
      ...targets.map((user) => user.userId),
      suspended.userId,
      otherAdmin.userId,
      admin.userId,
      missing,
    ];
    const response = await bulk({ action: 'suspend', userIds: ids, reason: 'Fraud ring', dryRun: true });
    expect(response.statusCode, response.body).toBe(200);
    expect(
      response
        .json()
        .results.map((result: { outcome: string; code?: string }) => result.code ?? result.outcome),
    ).toEqual([
      'would_apply',
      'would_apply',
      'already_suspended',
      'admin_target',
      'cannot_target_self',
      'user_not_found',
    ]);
    for (const user of targets) {
      expect(await statusOf(user.userId)).toBe('active');
      expect((await call(testApp, 'GET', '/v1/me', user.accessToken)).statusCode).toBe(200);
    }
  });

  it('suspend: applied per user, their tokens stop working at once; a retry with the key replays; reinstate lifts it', async () => {
    const targets = await Promise.all([1, 2, 3].map(() => createUser(testApp, { roles: ['customer'] })));
    const ids = [...targets.map((user) => user.userId), randomUUID()];
    const idempotency = { 'idempotency-key': `bulk-${randomUUID()}` };
    const response = await bulk(
      { action: 'suspend', userIds: ids, reason: 'Fraud ring', dryRun: false },
      idempotency,
    );
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json().results.map((result: { outcome: string }) => result.outcome)).toEqual([
      'applied',
      'applied',
      'applied',
      'refused',
    ]);
    for (const user of targets) {
      expect(await statusOf(user.userId)).toBe('suspended');
      const refused = await call(testApp, 'GET', '/v1/me', user.accessToken);
      expect(refused.statusCode).toBe(401);
      expect(refused.json().code).toBe('token_revoked');
      // On the other instance too: revocation is in PostgreSQL and the shared Redis.
      expect((await call(second, 'GET', '/v1/me', user.accessToken)).statusCode).toBe(401);
    }
    const perUser = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id'])
      .where(
        'subject_user_id',
        'in',
        targets.map((user) => user.userId),
      )
      .where('action', '=', 'admin.user_suspended')
      .execute();
    expect(perUser).toHaveLength(3);
    expect(perUser.every((line) => line.actor_id === admin.userId)).toBe(true);

    const bulkLines = async () =>
      (await auditOf('bulk:suspend')).filter((line) => line.actor_id === admin.userId).length;
    const before = await bulkLines();
    const replay = await bulk(
      { action: 'suspend', userIds: ids, reason: 'Fraud ring', dryRun: false },
      idempotency,
    );
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(response.json());
    expect(await bulkLines()).toBe(before);
    const reused = await bulk({ action: 'logout', userIds: ids, dryRun: false }, idempotency);
    expect(reused.statusCode).toBe(409);
    expect(reused.json().code).toBe('idempotency_key_reused');

    // Without the key, the same request finds them suspended already: skipped, not suspended twice.
    const again = await bulk({
      action: 'suspend',
      userIds: ids.slice(0, 3),
      reason: 'Fraud ring',
      dryRun: false,
    });
    expect(again.json().results.map((result: { code: string }) => result.code)).toEqual([
      'already_suspended',
      'already_suspended',
      'already_suspended',
    ]);

    const reinstated = await bulk({ action: 'reinstate', userIds: ids.slice(0, 3), dryRun: false });
    expect(reinstated.json().results.map((result: { outcome: string }) => result.outcome)).toEqual([
      'applied',
      'applied',
      'applied',
    ]);
    for (const user of targets) {
      expect(await statusOf(user.userId)).toBe('active');
      const signedIn = await login(testApp, { phone: user.phone, password: user.password });
      expect(signedIn.statusCode, signedIn.body).toBe(200);
    }
  });

  it('logout ends every session of each user without suspending them', async () => {
    const target = await createUser(testApp, { roles: ['driver'] });
    const response = await bulk({ action: 'logout', userIds: [target.userId], dryRun: false });
    expect(response.json().results[0].outcome).toBe('applied');
    expect((await call(testApp, 'GET', '/v1/me', target.accessToken)).statusCode).toBe(401);
    expect(await statusOf(target.userId)).toBe('active');
  });

  it('bad input is a 400 problem and changes nothing', async () => {
    const target = await createUser(testApp, { roles: ['customer'] });
    const bad: unknown[] = [
      { action: 'suspend', userIds: [target.userId], dryRun: false },
      { action: 'suspend', userIds: [target.userId], reason: '   ', dryRun: false },
      { action: 'delete', userIds: [target.userId], dryRun: false },
      { action: 'logout', userIds: [], dryRun: false },
      { action: 'logout', userIds: [target.userId, target.userId], dryRun: false },
      { action: 'logout', userIds: ['not-a-uuid'], dryRun: false },
      { action: 'logout', userIds: Array.from({ length: 101 }, () => randomUUID()), dryRun: false },
      { action: 'logout', userIds: [target.userId], dryRun: null },
      { action: 'logout', userIds: [target.userId] },
      { action: 'suspend', userIds: [target.userId], reason: 'abc\u0000', dryRun: false },
      null,
    ];
    for (const body of bad) {
      const response = await bulk(body);
      expect(response.statusCode, JSON.stringify(body)?.slice(0, 100)).toBe(400);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(await statusOf(target.userId)).toBe('active');
    expect((await call(testApp, 'GET', '/v1/me', target.accessToken)).statusCode).toBe(200);
  });
});
