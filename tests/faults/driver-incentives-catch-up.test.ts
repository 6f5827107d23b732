/**
 * Fault schedules for the nightly incentive settlement's catch-up (issue #20, docs/dispatch.md
 * "Earnings and incentives": a settled day is recorded in `dispatch_daily_runs`, and every tick
 * enqueues the past days not recorded). The schedules: the process dying after the ledger booked
 * a day's incentives and before the day was recorded, the ledger unreachable during the night's
 * job, and two instances catching up at once afterwards.
 *
 * After each: the delivery's peak-hour incentive is booked exactly once (one credit of
 * `drv:peak_hour:<ruleId>:<orderId>` on the driver's payable), the day is recorded once, and the
 * ledger verifies.
 */
import { sql } from 'kysely';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Transfer } from '../../ledger/rules/index.js';
import { createDailyRuns } from '../../src/modules/dispatch/daily-runs.js';
import { createEarningsRepository } from '../../src/modules/dispatch/earnings-repository.js';
import {
  doualaDayRange,
  incentivesJob,
  INCENTIVES_QUEUE,
} from '../../src/modules/dispatch/earnings-schedule.js';
import { createEarnings } from '../../src/modules/dispatch/earnings.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import type { OrderWorld } from '../integration/orders/helpers.js';

let world: OrderWorld;
let ruleId: string;

const services = () => world.testApp.services;
type Db = Parameters<typeof createEarningsRepository>[0];
const db = () => services().db as unknown as Db;
const today = () => new Date(Date.now() + 3_600_000).toISOString().slice(0, 10);
/** Noon in Douala the day after `day`: the day is due for settlement. */
const noonAfter = (day: string) => new Date(Date.parse(`${day}T11:00:00Z`) + 86_400_000);

beforeAll(async () => {
  world = await loyaltyWorld({});
  const rule = await services().dispatch.earnings.createRule(
    {
      kind: 'peak_hour',
      name: 'Toute la journée',
      amountMinor: 250,
      weekdays: [0, 1, 2, 3, 4, 5, 6],
      startHour: 0,
      endHour: 24,
    },
    { kind: 'user', userId: world.actors.admin.userId },
  );
  ruleId = rule.id;
}, 120_000);
afterAll(async () => world?.testApp.close());

/** A delivery booked today (its driver fee on the statement), and today not settled yet. */
async function deliveredToday(): Promise<string> {
  const customer = await fundedCustomer(world);
  const order = await deliveredOrder(world, customer.accessToken);
  const repository = createEarningsRepository(db());
  await until(
    () => repository.driverFeeOf(order.id),
    (fee) => fee !== undefined,
    20_000,
  );
  await services().db.deleteFrom('dispatch_daily_runs').where('job', '=', 'incentives').execute();
  return order.id;
}

/** Another instance's nightly job over a ledger that fails at `point` (the throw stands for the process stopping). */
function faultyJob(point: 'before_booking' | 'after_booking') {
  const ledger = services().ledger;
  const earnings = createEarnings({
    repository: createEarningsRepository(db()),
    ledger: () => ({
      async submit(transfers: readonly Transfer[]) {
        if (point === 'before_booking') throw new Error('fault: the ledger is unreachable');
        await ledger.submit(transfers);
        throw new Error('fault: the process stopped after the ledger booked');
      },
    }),
    identity: { audit: async () => undefined, grantRole: async () => undefined },
  });
  return incentivesJob(earnings, pino({ level: 'silent' }), createDailyRuns(db())).handler as (data: {
    day: string;
    from: string;
    to: string;
  }) => Promise<void>;
}

async function incentiveCredits(orderId: string): Promise<bigint[]> {
  const result = await sql<{ amount: string }>`SELECT amount_minor::text AS amount FROM ledger_entries
    WHERE transfer_id = ${`drv:peak_hour:${ruleId}:${orderId}`} AND side = 'credit'`.execute(services().db);
  return result.rows.map((row) => BigInt(row.amount));
}

async function recorded(day: string): Promise<number> {
  const rows = await services()
    .db.selectFrom('dispatch_daily_runs')
    .select('day')
    .where('job', '=', 'incentives')
    .where('day', '=', day)
    .execute();
  return rows.length;
}

/** The schedule's invariants: one incentive credit, the day recorded once, the ledger verifies. */
async function expectSound(orderId: string, day: string) {
  await until(
    () => incentiveCredits(orderId),
    (credits) => credits.length >= 1,
    20_000,
  );
  expect(await incentiveCredits(orderId)).toEqual([250n]);
  expect(await recorded(day)).toBe(1);
  const report = await services().ledger.verify({ projections: false });
  expect(report.mismatches).toEqual([]);
  expect(report.ok).toBe(true);
}

/**
 * The next tick: the day is still due (the catch-up would enqueue it), and the job that tick
 * enqueues runs (here called directly: the queue keeps a completed job's id for an hour, and the
 * schedules below all settle today, so only the last one goes through the queue).
 */
async function nextTick(day: string) {
  const { days } = await dueDays(day);
  expect(days).toContain(day);
  const { from, to } = doualaDayRange(day);
  const job = incentivesJob(services().dispatch.earnings, pino({ level: 'silent' }), createDailyRuns(db()));
  await (job.handler as (data: { day: string; from: string; to: string }) => Promise<void>)({
    day,
    from: from.toISOString(),
    to: to.toISOString(),
  });
}

/** The days the catch-up at noon the day after `day` finds unsettled (without enqueuing them). */
async function dueDays(day: string) {
  const runs = createDailyRuns(db());
  return { days: await runs.daysToRun('incentives', day) };
}

describe('the nightly settlement catch-up under faults', () => {
  it('the process dies after the ledger booked and before the day was recorded: the next tick books nothing twice', async () => {
    const orderId = await deliveredToday();
    const day = today();
    const { from, to } = doualaDayRange(day);
    await expect(
      faultyJob('after_booking')({ day, from: from.toISOString(), to: to.toISOString() }),
    ).rejects.toThrow(/after the ledger booked/);
    await until(
      () => incentiveCredits(orderId),
      (credits) => credits.length >= 1,
      20_000,
    );
    expect(await recorded(day)).toBe(0);
    await nextTick(day);
    await expectSound(orderId, day);
  });

  it('the ledger is unreachable during the night: nothing moves, the day stays due, the next tick books once', async () => {
    const orderId = await deliveredToday();
    const day = today();
    const { from, to } = doualaDayRange(day);
    await expect(
      faultyJob('before_booking')({ day, from: from.toISOString(), to: to.toISOString() }),
    ).rejects.toThrow(/unreachable/);
    expect(await incentiveCredits(orderId)).toEqual([]);
    expect(await recorded(day)).toBe(0);
    await nextTick(day);
    await expectSound(orderId, day);
  });

  it('two instances catch up at once after a missed night: one booking, then nothing left to do', async () => {
    const orderId = await deliveredToday();
    const day = today();
    const at = noonAfter(day);
    await Promise.all([services().dispatch.catchUp(at), services().dispatch.catchUp(at)]);
    await services().jobs.queue.drain(INCENTIVES_QUEUE, 60_000);
    await expectSound(orderId, day);
    expect((await services().dispatch.catchUp(at)).incentiveDays).toEqual([]);
  });
});
