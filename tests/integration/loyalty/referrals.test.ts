import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  customerPointsId,
  customerWalletId,
  pointsIssuanceId,
  promotionsExpenseId,
} from '../../../ledger/rules/index.js';
import { createReferrals, referralTransferId } from '../../../src/modules/loyalty/index.js';
import { authHeader, createUser, DEFAULT_TEST_PASSWORD } from '../../helpers/auth.js';
import { getOrder, type OrderWorld } from '../orders/helpers.js';
import { deliveredOrder, fundedCustomer, loyaltyOf, loyaltyWorld, until } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_REFERRAL_REFERRER_REWARD: '300',
    LOYALTY_REFERRAL_REFEREE_REWARD: '150',
    LOYALTY_REFERRAL_MONTHLY_CAP: '2',
  });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const credited = async (accountId: string) =>
  (await services().ledger.account(accountId))?.creditsPosted ?? 0n;
const points = (userId: string) => credited(customerPointsId(userId));
const referral = (token: string) =>
  world.testApp.app.inject({ method: 'GET', url: '/v1/loyalty/referral', headers: authHeader(token) });
const claim = (token: string, payload: unknown) =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/loyalty/referral',
    headers: { ...authHeader(token), 'content-type': 'application/json' },
    payload: JSON.stringify(payload),
  });
const referralsOf = (token: string, query = '') =>
  world.testApp.app.inject({
    method: 'GET',
    url: `/v1/loyalty/referrals${query}`,
    headers: authHeader(token),
  });
const codeOf = async (token: string) => (await referral(token)).json().code as string;
const complete = (orderId: string) =>
  until(
    async () => {
      await services().orders.orders.sweep(new Date(Date.now() + 25 * 3_600_000));
      return (await getOrder(world, orderId, world.support.accessToken)).json().status;
    },
    (status) => status === 'COMPLETED',
  );
const entriesOf = async (transferId: string) =>
  (
    await sql<{ count: string }>`SELECT count(*)::text AS count FROM ledger_entries
      WHERE transfer_id = ${transferId}`.execute(services().db)
  ).rows[0]!.count;
const referralRows = async () =>
  (await sql<{ count: string }>`SELECT count(*)::text AS count FROM referrals`.execute(services().db))
    .rows[0]!.count;

describe('loyalty: referrals', () => {
  it("the referee's first completed order rewards both once, from the points issuance; a second order or a replay books nothing more", async () => {
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const shown = await referral(referrer.accessToken);
    expect(shown.statusCode, shown.body).toBe(200);
    const { code, link } = shown.json();
    expect(code).toMatch(/^[A-Z0-9]{8}$/);
    expect(link).toMatch(new RegExp(`/r/${code}$`));
    expect(await codeOf(referrer.accessToken)).toBe(code); // stable
    expect(shown.json().reward).toEqual({ kind: 'points', referrer: 300, referee: 150, monthlyCap: 2 });

    const referee = await fundedCustomer(world);
    const claimed = await claim(referee.accessToken, { code: code.toLowerCase() });
    expect(claimed.statusCode, claimed.body).toBe(201);
    expect(claimed.json()).toEqual({ status: 'pending' });
    expect(claimed.headers.location).toBe('/v1/loyalty/referral');
    expect((await claim(referee.accessToken, { code })).statusCode).toBe(200); // the same code again
    expect((await referral(referee.accessToken)).json().referredStatus).toBe('pending');

    // Delivered is not enough: the dispute window is open, nothing is rewarded yet.
    const first = await deliveredOrder(world, referee.accessToken);
    expect(await points(referrer.userId)).toBe(0n);
    await complete(first.id);
    await until(
      async () => [await points(referee.userId), await points(referrer.userId)],
      ([refereePoints, referrerPoints]) => refereePoints === 25n + 150n && referrerPoints === 300n,
    );
    // The read model follows the writer: each reward is one balanced transfer (two lines).
    for (const role of ['referee', 'referrer'] as const)
      await until(
        () => entriesOf(referralTransferId(referee.userId, role)),
        (count) => count === '2',
      );
    const [row] = (
      await sql<{ debit: string; code: string }>`SELECT account_id AS debit, code FROM ledger_entries
        WHERE transfer_id = ${referralTransferId(referee.userId, 'referrer')} AND side = 'debit'`.execute(
        services().db,
      )
    ).rows;
    expect(row).toEqual({ debit: pointsIssuanceId(), code: 'adjustment' });

    // The event handled again (a replay): the recorded decision, the ledger answers exists.
    expect(
      await services().loyalty.referrals.onOrderCompleted({
        orderId: first.id,
        refereeId: referee.userId,
        paymentPhone: null,
        at: new Date(),
      }),
    ).toBe('exists');
    // A second completed order of the referee earns its points and no referral reward.
    const second = await deliveredOrder(world, referee.accessToken);
    await complete(second.id);
    await until(
      () => points(referee.userId),
      (value) => value === 25n + 150n + 25n,
    );
    expect(await points(referrer.userId)).toBe(300n);
    expect(await entriesOf(referralTransferId(referee.userId, 'referrer'))).toBe('2');

    // The referrer's listing: the referral, rewarded, never who the referee is.
    const listed = await referralsOf(referrer.accessToken);
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toHaveLength(1);
    expect(listed.json().items[0]).toMatchObject({
      status: 'rewarded',
      reason: null,
      reward: { kind: 'points', amount: 300 },
    });
    expect(listed.body).not.toContain(referee.userId);
    expect(listed.body).not.toContain(referee.phone);
    expect((await referral(referrer.accessToken)).json().referrals).toEqual({
      pending: 0,
      rewarded: 1,
      refused: 0,
      rewardedThisMonth: 1,
    });
    // The referrer's points history shows the reward as a referral.
    await until(
      async () => (await loyaltyOf(world, referrer.accessToken)).json().history.items,
      (items: { kind: string }[]) => items.length === 1 && items[0]!.kind === 'referral',
    );
    const report = await services().ledger.verify({ projections: false });
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('refuses bad codes, one’s own code, a second referrer and a customer who already completed an order, changing nothing', async () => {
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const other = await createUser(world.testApp, { roles: ['customer'] });
    const code = await codeOf(referrer.accessToken);
    const otherCode = await codeOf(other.accessToken);
    const referee = await createUser(world.testApp, { roles: ['customer'] });
    const before = await referralRows();

    for (const body of [
      {},
      { code: null },
      { code: 12345678 },
      { code: 'ABC' },
      { code: 'ABCDEFGH1' },
      { code: 'ABCD EFG' },
      { code, extra: 1 },
      [],
    ]) {
      const answer = await claim(referee.accessToken, body);
      expect(answer.statusCode, JSON.stringify(body)).toBe(400);
      expect(answer.headers['content-type']).toContain('application/problem+json');
    }
    const unknown = await claim(referee.accessToken, { code: 'ZZZZZZZZ' });
    expect([unknown.statusCode, unknown.json().code]).toEqual([422, 'referral_code_unknown']);
    const own = await claim(referrer.accessToken, { code });
    expect([own.statusCode, own.json().code]).toEqual([422, 'referral_self']);
    expect(await referralRows()).toBe(before);

    expect((await claim(referee.accessToken, { code })).statusCode).toBe(201);
    const second = await claim(referee.accessToken, { code: otherCode });
    expect([second.statusCode, second.json().code]).toEqual([409, 'referral_already_claimed']);

    // A customer whose order already completed is no longer new.
    const veteran = await fundedCustomer(world);
    const order = await deliveredOrder(world, veteran.accessToken);
    await complete(order.id);
    await until(
      () => points(veteran.userId),
      (value) => value === 25n,
    );
    const late = await claim(veteran.accessToken, { code });
    expect([late.statusCode, late.json().code]).toEqual([422, 'referral_not_first_order']);
    expect(await referralRows()).toBe(String(Number(before) + 1));

    // Access: no token 401, a driver 403; a forged cursor 400.
    const anonymous = await world.testApp.app.inject({ method: 'GET', url: '/v1/loyalty/referral' });
    expect(anonymous.statusCode).toBe(401);
    expect((await referral(world.driver.accessToken)).statusCode).toBe(403);
    expect((await claim(world.driver.accessToken, { code })).statusCode).toBe(403);
    const forged = await referralsOf(referrer.accessToken, '?cursor=abc');
    expect([forged.statusCode, forged.json().code]).toEqual([400, 'invalid_cursor']);
    expect((await referralsOf(referrer.accessToken, '?limit=0')).statusCode).toBe(400);
  });

  it('the monthly cap holds under concurrency: 12 referees completing at once, the referrer rewarded exactly twice; pages of the listing', async () => {
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const code = await codeOf(referrer.accessToken);
    const referees = await Promise.all(
      Array.from({ length: 12 }, () => createUser(world.testApp, { roles: ['customer'] })),
    );
    for (const referee of referees) expect((await claim(referee.accessToken, { code })).statusCode).toBe(201);
    const orders = referees.map(() => randomUUID());
    const at = new Date();
    // Each completion handled twice at once (a redelivery racing the first handling).
    const outcomes = await Promise.all(
      [...referees, ...referees].map((referee, index) =>
        services().loyalty.referrals.onOrderCompleted({
          orderId: orders[index % referees.length]!,
          refereeId: referee.userId,
          paymentPhone: null,
          at,
        }),
      ),
    );
    expect(outcomes.filter((outcome) => outcome === 'booked')).toHaveLength(12);
    expect(await points(referrer.userId)).toBe(600n);
    for (const referee of referees) expect(await points(referee.userId)).toBe(150n);
    const rows = (
      await sql<{ reason: string | null; referrer_reward: string }>`SELECT reason, referrer_reward::text
        FROM referrals WHERE referrer_id = ${referrer.userId}`.execute(services().db)
    ).rows;
    expect(rows.filter((row) => row.referrer_reward === '300')).toHaveLength(2);
    expect(rows.filter((row) => row.reason === 'referrer_monthly_cap')).toHaveLength(10);

    const first = await referralsOf(referrer.accessToken, '?limit=5');
    const second = await referralsOf(referrer.accessToken, `?limit=5&cursor=${first.json().nextCursor}`);
    const third = await referralsOf(referrer.accessToken, `?limit=5&cursor=${second.json().nextCursor}`);
    expect(third.json().nextCursor).toBeNull();
    const all = [...first.json().items, ...second.json().items, ...third.json().items];
    expect(all).toHaveLength(12);
    expect(all.filter((item) => item.reward?.amount === 300)).toHaveLength(2);
    expect(all.filter((item) => item.reward?.amount === 0)).toHaveLength(10);
  });

  it('paid from the referrer’s phone: refused, nothing booked; wallet rewards come from the promotions expense, a decision recorded before a crash is booked once', async () => {
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const code = await codeOf(referrer.accessToken);
    const ring = await createUser(world.testApp, { roles: ['customer'] });
    expect((await claim(ring.accessToken, { code })).statusCode).toBe(201);
    const phone = referrer.phone.replace(/^\+/, ''); // compared normalised
    expect(
      await services().loyalty.referrals.onOrderCompleted({
        orderId: randomUUID(),
        refereeId: ring.userId,
        paymentPhone: phone,
        at: new Date(),
      }),
    ).toBe('refused');
    expect(await points(referrer.userId)).toBe(0n);
    expect(await points(ring.userId)).toBe(0n);
    expect(await entriesOf(referralTransferId(ring.userId, 'referee'))).toBe('0');
    expect((await referralsOf(referrer.accessToken)).json().items[0]).toMatchObject({
      status: 'refused',
      reason: 'same_payment_phone',
      reward: null,
    });

    // The same service configured for wallet credit (LOYALTY_REFERRAL_REWARD=wallet).
    const wallet = createReferrals({
      db: services().db as unknown as Parameters<typeof createReferrals>[0]['db'],
      ledger: services().ledger,
      logger: console,
      rewards: { kind: 'wallet', referrer: 1_000n, referee: 500n, monthlyCap: 5 },
      phoneOf: async (userId) => (await services().identity.repository.findUserById(userId))?.phone ?? null,
      devicesOf: (userId) => services().identity.repository.deviceHashesOf(userId),
      publicBaseUrl: 'http://127.0.0.1',
    });
    const referee = await createUser(world.testApp, { roles: ['customer'] });
    expect((await claim(referee.accessToken, { code })).statusCode).toBe(201);
    const expenseBefore = (await services().ledger.account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    const orderId = randomUUID();
    const input = { orderId, refereeId: referee.userId, paymentPhone: '+237690000001', at: new Date() };
    // The decision is recorded and the process stops before booking: the retry books it, once.
    const decided = await wallet.decide(input);
    expect(decided).toMatchObject({ status: 'rewarded', reward_kind: 'wallet' });
    expect(await credited(customerWalletId(referee.userId, 'XAF'))).toBe(0n);
    expect(await wallet.onOrderCompleted(input)).toBe('booked');
    expect(await wallet.onOrderCompleted(input)).toBe('exists');
    // A differently configured instance replaying it books the recorded decision, not its own.
    expect(await services().loyalty.referrals.onOrderCompleted(input)).toBe('exists');
    expect(await credited(customerWalletId(referee.userId, 'XAF'))).toBe(500n);
    expect(await credited(customerWalletId(referrer.userId, 'XAF'))).toBe(1_000n);
    expect(await points(referee.userId)).toBe(0n);
    const expenseAfter = (await services().ledger.account(promotionsExpenseId('XAF')))?.debitsPosted ?? 0n;
    expect(expenseAfter - expenseBefore).toBeGreaterThanOrEqual(1_500n); // other files may book too
    await until(
      () => entriesOf(referralTransferId(referee.userId, 'referee')),
      (count) => count === '2',
    );
    const legs = (
      await sql<{ account_id: string; side: string; amount_minor: string }>`SELECT account_id, side,
        amount_minor::text FROM ledger_entries WHERE transfer_id = ${referralTransferId(referee.userId, 'referee')}
        ORDER BY side`.execute(services().db)
    ).rows;
    expect(legs).toEqual([
      { account_id: customerWalletId(referee.userId, 'XAF'), side: 'credit', amount_minor: '500' },
      { account_id: promotionsExpenseId('XAF'), side: 'debit', amount_minor: '500' },
    ]);
    const report = await services().ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });

  it('signed in on one device (X-Device-Id): refused as same_device, nothing booked; another device or a malformed id does not link them', async () => {
    const signIn = (phone: string, deviceId: string) =>
      world.testApp.app.inject({
        method: 'POST',
        url: '/v1/auth/login',
        headers: { 'x-device-id': deviceId },
        payload: { phone, password: DEFAULT_TEST_PASSWORD, client: 'mobile' },
      });
    const shared = `install-${randomUUID()}`;
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const referee = await createUser(world.testApp, { roles: ['customer'] });
    const bystander = await createUser(world.testApp, { roles: ['customer'] });
    expect((await signIn(referrer.phone, shared)).statusCode).toBe(200);
    expect((await signIn(referee.phone, `install-${randomUUID()}`)).statusCode).toBe(200);
    expect((await signIn(referee.phone, shared)).statusCode).toBe(200);
    // Malformed ids (too short, a space, too long) are ignored: the sign-in works, nothing is kept;
    // a NUL in any header is refused before sign-in (400, as every request).
    for (const bad of ['short', 'has space here', 'x'.repeat(129)])
      expect((await signIn(bystander.phone, bad)).statusCode).toBe(200);
    expect((await signIn(bystander.phone, 'abc\u0000defghij')).statusCode).toBe(400);
    expect(await services().identity.repository.deviceHashesOf(bystander.userId)).toEqual([]);
    const referrerDevices = await services().identity.repository.deviceHashesOf(referrer.userId);
    expect(referrerDevices).toHaveLength(1);
    expect(referrerDevices[0]).not.toContain(shared); // only a keyed hash is stored
    expect(await services().identity.repository.deviceHashesOf(referee.userId)).toHaveLength(2);

    const code = await codeOf(referrer.accessToken);
    expect((await claim(referee.accessToken, { code })).statusCode).toBe(201);
    const input = { orderId: randomUUID(), refereeId: referee.userId, paymentPhone: null, at: new Date() };
    expect(await services().loyalty.referrals.onOrderCompleted(input)).toBe('refused');
    expect(await services().loyalty.referrals.onOrderCompleted(input)).toBe('refused'); // replayed
    expect(await points(referrer.userId)).toBe(0n);
    expect(await points(referee.userId)).toBe(0n);
    expect(await entriesOf(referralTransferId(referee.userId, 'referee'))).toBe('0');
    expect((await referralsOf(referrer.accessToken)).json().items[0]).toMatchObject({
      status: 'refused',
      reason: 'same_device',
      reward: null,
    });

    // The bystander (no device kept) referred by the same referrer is rewarded.
    expect((await claim(bystander.accessToken, { code })).statusCode).toBe(201);
    expect(
      await services().loyalty.referrals.onOrderCompleted({ ...input, refereeId: bystander.userId }),
    ).toBe('booked');
  });

  it("exports a person's referrals without naming anyone else, and erasure ends their code and pending referrals", async () => {
    const hook = services().platform.personalData.get('loyalty')!;
    const referrer = await createUser(world.testApp, { roles: ['customer'] });
    const code = await codeOf(referrer.accessToken);
    const referee = await createUser(world.testApp, { roles: ['customer'] });
    expect((await claim(referee.accessToken, { code })).statusCode).toBe(201);
    const contacts = { phone: referee.phone, email: null };

    const mine = (await hook.export!(referrer.userId, contacts)) as { referrals: Record<string, unknown> };
    expect(mine.referrals).toMatchObject({
      code: { code },
      referredBy: null,
      referralsMade: [{ status: 'pending', count: 1, earned: 0 }],
    });
    expect(JSON.stringify(mine)).not.toContain(referee.userId);
    const theirs = (await hook.export!(referee.userId, contacts)) as { referrals: Record<string, unknown> };
    expect(theirs.referrals).toMatchObject({ code: null, referredBy: { status: 'pending', reward: null } });
    expect(JSON.stringify(theirs)).not.toContain(referrer.userId);

    // The referrer is erased: the code stops working and the pending referral is refused.
    await hook.erase(referrer.userId, contacts);
    await hook.erase(referrer.userId, contacts); // a retried erasure
    const row = await services()
      .db.selectFrom('referrals')
      .select(['status', 'reason'])
      .where('referee_id', '=', referee.userId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ status: 'refused', reason: 'erased' });
    const later = await createUser(world.testApp, { roles: ['customer'] });
    const refused = await claim(later.accessToken, { code });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().code).toBe('referral_code_unknown');
  });
});
