/**
 * Fault schedules for the referral reward (issue #21, docs/loyalty.md "Referrals"): the process
 * dying between the reward's steps (decision recorded, the referee's transfer, the referrer's),
 * the completion event repeated (redelivered, replayed from an empty checkpoint, handled by
 * several instances at once), referees of one referrer completing together, and the dispute
 * window passing (the orders' sweep takes the instant it runs at, and the window is the
 * configured ORDER_DISPUTE_WINDOW_MINUTES, so the schedule moves past it without waiting).
 *
 * After each schedule: every rewarded referral booked exactly its recorded amounts once (the
 * referee's and, under the monthly cap, the referrer's), nothing else was credited, no referrer
 * earned more than the cap in a month, and the ledger verifies.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerPointsId, type Transfer } from '../../ledger/rules/index.js';
import { createReferrals, referralTransferId } from '../../src/modules/loyalty/index.js';
import { authHeader, createUser, type CreatedUser } from '../helpers/auth.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import { getOrder, type OrderWorld } from '../integration/orders/helpers.js';

const REFERRER_REWARD = 300n;
const REFEREE_REWARD = 150n;
const MONTHLY_CAP = 2;
const WINDOW_MINUTES = 30;
let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({
    LOYALTY_REFERRAL_REFERRER_REWARD: String(REFERRER_REWARD),
    LOYALTY_REFERRAL_REFEREE_REWARD: String(REFEREE_REWARD),
    LOYALTY_REFERRAL_MONTHLY_CAP: String(MONTHLY_CAP),
    ORDER_DISPUTE_WINDOW_MINUTES: String(WINDOW_MINUTES),
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const db = () => services().db;

async function pointsCredited(userId: string): Promise<bigint> {
  return (await services().ledger.account(customerPointsId(userId)))?.creditsPosted ?? 0n;
}

/** The referral transfers the writer holds for this referee's role: 0 or 1, never 2. */
async function rewardLines(refereeId: string, role: 'referee' | 'referrer'): Promise<number> {
  const result = await sql<{ count: string }>`SELECT count(*)::text AS count FROM ledger_entries
    WHERE transfer_id = ${referralTransferId(refereeId, role)} AND side = 'credit'`.execute(db());
  return Number(result.rows[0]!.count);
}

async function referrer(): Promise<{ user: CreatedUser; code: string }> {
  const user = await createUser(world.testApp, { roles: ['customer'] });
  const shown = await world.testApp.app.inject({
    method: 'GET',
    url: '/v1/loyalty/referral',
    headers: authHeader(user.accessToken),
  });
  expect(shown.statusCode, shown.body).toBe(200);
  return { user, code: shown.json().code };
}

async function referee(code: string, funded = false): Promise<CreatedUser> {
  const user = funded
    ? await fundedCustomer(world)
    : await createUser(world.testApp, { roles: ['customer'] });
  const claimed = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/loyalty/referral',
    headers: authHeader(user.accessToken),
    payload: { code },
  });
  expect(claimed.statusCode, claimed.body).toBe(201);
  return user;
}

interface ReferralRow {
  referee_id: string;
  status: string;
  referee_reward: string | null;
  referrer_reward: string | null;
  month: string | null;
}

async function rowsOf(referrerId: string): Promise<ReferralRow[]> {
  const result = await sql<ReferralRow>`SELECT referee_id::text, status, referee_reward::text,
    referrer_reward::text, month FROM referrals WHERE referrer_id = ${referrerId}`.execute(db());
  return result.rows;
}

/**
 * The schedule's invariants, from the recorded decisions and the ledger: each rewarded referee
 * credited their reward once and nothing else; the referrer credited once per rewarded referral
 * with a referrer part, at most the cap a month; pending referrals booked nothing.
 */
async function expectSound(referrerUser: CreatedUser, expected: { rewarded: number; referrerPaid: number }) {
  const rows = await rowsOf(referrerUser.userId);
  const rewarded = rows.filter((row) => row.status === 'rewarded');
  expect(rewarded).toHaveLength(expected.rewarded);
  const paid = rewarded.filter((row) => row.referrer_reward === String(REFERRER_REWARD));
  expect(paid).toHaveLength(expected.referrerPaid);
  const perMonth = new Map<string, number>();
  for (const row of paid) perMonth.set(row.month!, (perMonth.get(row.month!) ?? 0) + 1);
  for (const count of perMonth.values()) expect(count).toBeLessThanOrEqual(MONTHLY_CAP);
  expect(await pointsCredited(referrerUser.userId)).toBe(REFERRER_REWARD * BigInt(paid.length));
  for (const row of rows) {
    const isRewarded = row.status === 'rewarded';
    // The referee's own order points are not referral points: count the referral transfer only.
    await until(
      () => rewardLines(row.referee_id, 'referee'),
      (lines) => lines === (isRewarded ? 1 : 0),
    );
    expect(row.referee_reward).toBe(isRewarded ? String(REFEREE_REWARD) : null);
    const referrerLines = isRewarded && row.referrer_reward === String(REFERRER_REWARD) ? 1 : 0;
    await until(
      () => rewardLines(row.referee_id, 'referrer'),
      (lines) => lines === referrerLines,
    );
  }
  const report = await services().ledger.verify({ projections: false });
  expect(report.mismatches).toEqual([]);
  expect(report.ok).toBe(true);
}

type CrashPoint = 'after_decision' | 'between_rewards' | 'after_booking';

/**
 * A second instance of the referral service whose process "dies" at `crashPoint`: after the
 * decision committed, after the referee's transfer landed and before the referrer's, or after both
 * landed and before the answer. The throw stands for the process stopping there.
 */
function crashingReferrals(crashPoint: CrashPoint) {
  const ledger = services().ledger;
  return createReferrals({
    db: db() as unknown as Parameters<typeof createReferrals>[0]['db'],
    ledger: {
      async submit(transfers: readonly Transfer[]) {
        if (crashPoint === 'after_decision') throw new Error('crash: after the decision');
        if (crashPoint === 'between_rewards') {
          await ledger.submit(transfers.slice(0, 1));
          throw new Error('crash: between the two rewards');
        }
        await ledger.submit(transfers);
        throw new Error('crash: after booking, before the answer');
      },
    },
    logger: { error() {}, warn() {} },
    rewards: { kind: 'points', referrer: REFERRER_REWARD, referee: REFEREE_REWARD, monthlyCap: MONTHLY_CAP },
    phoneOf: async (userId) => (await services().identity.repository.findUserById(userId))?.phone ?? null,
    devicesOf: (userId) => services().identity.repository.deviceHashesOf(userId),
    publicBaseUrl: 'http://127.0.0.1',
  });
}

describe('referral reward under faults', () => {
  for (const crashPoint of ['after_decision', 'between_rewards', 'after_booking'] as const) {
    it(`the process dies ${crashPoint.replace('_', ' ')}: the redelivered event completes the reward, once`, async () => {
      const { user, code } = await referrer();
      const referees = await Promise.all([0, 1, 2].map(() => referee(code)));
      const crashing = crashingReferrals(crashPoint);
      const at = new Date();
      const inputs = referees.map((each) => ({
        orderId: randomUUID(),
        refereeId: each.userId,
        paymentPhone: null,
        at,
      }));
      // Three referees of one referrer (cap 2) complete at once on the instance that dies.
      const crashed = await Promise.allSettled(inputs.map((input) => crashing.onOrderCompleted(input)));
      expect(crashed.every((outcome) => outcome.status === 'rejected')).toBe(true);
      // The decisions stand, recorded before the crash: two with the referrer's part, one at the cap.
      const decided = await rowsOf(user.userId);
      expect(decided.map((row) => row.status)).toEqual(['rewarded', 'rewarded', 'rewarded']);
      // The event comes again (redelivery, another instance), twice at once for each referee.
      const recovered = await Promise.all(
        [...inputs, ...inputs].map((input) => services().loyalty.referrals.onOrderCompleted(input)),
      );
      expect(recovered.every((outcome) => outcome === 'booked' || outcome === 'exists')).toBe(true);
      if (crashPoint === 'after_booking')
        expect(recovered.every((outcome) => outcome === 'exists')).toBe(true);
      await expectSound(user, { rewarded: 3, referrerPaid: MONTHLY_CAP });
      for (const each of referees) expect(await pointsCredited(each.userId)).toBe(REFEREE_REWARD);
    });
  }

  // Whole orders (placed, paid, delivered, completed): minutes on a loaded machine, not seconds.
  it(
    'the dispute window passes: nothing before it closes, the reward after; repeated and replayed events book nothing more',
    { timeout: 180_000 },
    async () => {
      const { user, code } = await referrer();
      const buyer = await referee(code, true);
      const order = await deliveredOrder(world, buyer.accessToken);
      const view = await getOrder(world, order.id, world.support.accessToken);
      const timeline = view.json().timeline as { status: string; at: string }[];
      const deliveredAt = new Date(timeline.find((step) => step.status === 'DELIVERED')!.at).getTime();
      expect(Number.isNaN(deliveredAt)).toBe(false);
      // A minute before the window closes: the order stays delivered, no referral is decided.
      await services().orders.orders.sweep(new Date(deliveredAt + (WINDOW_MINUTES - 1) * 60_000));
      expect((await getOrder(world, order.id, world.support.accessToken)).json().status).toBe('DELIVERED');
      expect((await rowsOf(user.userId)).map((row) => row.status)).toEqual(['pending']);
      expect(await pointsCredited(user.userId)).toBe(0n);
      // Past the window: completed, awarded, referral rewarded. The sweep runs three times at once
      // (three instances' timers) and again later: one OrderCompleted, one reward.
      const past = new Date(deliveredAt + (WINDOW_MINUTES + 1) * 60_000);
      await until(
        async () => {
          await Promise.all([0, 1, 2].map(() => services().orders.orders.sweep(past)));
          return (await getOrder(world, order.id, world.support.accessToken)).json().status;
        },
        (status) => status === 'COMPLETED',
      );
      await until(
        () => pointsCredited(user.userId),
        (points) => points === REFERRER_REWARD,
      );
      // The award reactor replayed from an empty checkpoint: every completion handled again.
      await services().loyalty.stop();
      await db().deleteFrom('loyalty_reactor_checkpoints').where('name', '=', 'loyalty-awards').execute();
      await services().loyalty.start();
      await until(
        async () =>
          (
            await db()
              .selectFrom('loyalty_reactor_checkpoints')
              .select('position')
              .where('name', '=', 'loyalty-awards')
              .executeTakeFirst()
          )?.position,
        (position) => position !== undefined,
      );
      // The completion event handled by hand too, as a straggling instance would.
      expect(
        await services().loyalty.referrals.onOrderCompleted({
          orderId: order.id,
          refereeId: buyer.userId,
          paymentPhone: null,
          at: new Date(),
        }),
      ).toBe('exists');
      await expectSound(user, { rewarded: 1, referrerPaid: 1 });
      // The referee: the order's points (25 for 2 500 XAF of food) and the referral's, once each.
      expect(await pointsCredited(buyer.userId)).toBe(25n + REFEREE_REWARD);
    },
  );

  it(
    'concurrent referees completing through real orders in one sweep: the cap holds, each rewarded once',
    { timeout: 180_000 },
    async () => {
      const { user, code } = await referrer();
      const buyers = await Promise.all([0, 1, 2, 3].map(() => referee(code, true)));
      const orders: { id: string }[] = [];
      for (const buyer of buyers) orders.push(await deliveredOrder(world, buyer.accessToken));
      // One sweep past every window completes them all together (two instances sweeping at once).
      const past = new Date(Date.now() + (WINDOW_MINUTES + 5) * 60_000);
      await until(
        async () => {
          await Promise.all([services().orders.orders.sweep(past), services().orders.orders.sweep(past)]);
          const statuses = await Promise.all(
            orders.map(
              async (order) => (await getOrder(world, order.id, world.support.accessToken)).json().status,
            ),
          );
          return statuses;
        },
        (statuses) => statuses.every((status) => status === 'COMPLETED'),
      );
      await until(
        async () => (await rowsOf(user.userId)).filter((row) => row.status === 'rewarded').length,
        (count) => count === buyers.length,
      );
      await until(
        () => pointsCredited(user.userId),
        (points) => points === REFERRER_REWARD * BigInt(MONTHLY_CAP),
      );
      await expectSound(user, { rewarded: buyers.length, referrerPaid: MONTHLY_CAP });
      for (const buyer of buyers) expect(await pointsCredited(buyer.userId)).toBe(25n + REFEREE_REWARD);
    },
  );
});
