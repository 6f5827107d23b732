import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Transfer } from '../../ledger/rules/index.js';
import {
  cameroonMonth,
  challengeTransferId,
  createAchievements,
} from '../../src/modules/community/achievements.js';
import { type OrderWorld } from '../integration/orders/helpers.js';
import {
  completeOrder,
  deliveredOrder,
  fundedCustomer,
  ledgerLines,
  loyaltyWorld,
  pointsCredited,
  until,
} from '../integration/loyalty/helpers.js';

/**
 * Fault schedules for the community's monthly challenge (docs/community.md): its reward is loyalty
 * points booked after the count, so a crash between the two, or the same event handled by two
 * instances at once, must end with the order counted once and the reward booked once.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await loyaltyWorld({ COMMUNITY_CHALLENGE_ORDERS: '2', COMMUNITY_CHALLENGE_POINTS: '40' });
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const points = (userId: string) => pointsCredited(world, userId);
const entriesOf = (transferId: string) => ledgerLines(world, transferId);
const complete = (orderId: string) => completeOrder(world, orderId);
/** Another instance of the achievements service, whose ledger `fails` while the flag says so. */
const instance = (fails: () => boolean) =>
  createAchievements({
    db: services().db as unknown as Parameters<typeof createAchievements>[0]['db'],
    eventStore: services().eventStore,
    ledger: {
      async submit(transfers: readonly Transfer[]) {
        if (fails()) throw new Error('crash: after the count, before the reward');
        return services().ledger.submit(transfers);
      },
    },
    logger: pino({ level: 'silent' }),
    restaurantOf: async () => ({ city: 'Testville', cuisines: ['camerounaise'] }),
    challenge: { orders: 2, points: 40n },
  });

describe('community challenge under faults', () => {
  it('a crash between the count and the reward: the redelivered event books the reward, once', async () => {
    const customer = await fundedCustomer(world);
    const orders = [];
    for (let index = 0; index < 2; index += 1) orders.push(await deliveredOrder(world, customer.accessToken));
    let crash = true;
    const crashing = instance(() => crash);
    // This instance counts both orders (the app's reactor has not seen them: not completed yet).
    const at = new Date();
    expect(await crashing.count({ orderId: orders[0]!.id, at })).toBe('counted');
    await expect(crashing.count({ orderId: orders[1]!.id, at })).rejects.toThrow(/crash/);
    const month = cameroonMonth(at);
    expect(await entriesOf(challengeTransferId(month, customer.userId))).toBe('0');
    crash = false;
    expect(await crashing.count({ orderId: orders[1]!.id, at })).toBe('already_counted');
    // The read model follows the writer: one balanced transfer, two lines.
    await until(
      () => entriesOf(challengeTransferId(month, customer.userId)),
      (count) => count === '2',
    );
    expect(await points(customer.userId)).toBe(40n);
    expect(await crashing.rewardChallenge(customer.userId, month)).toBe('exists');
    // The app's own reactor, when these orders complete, counts nothing more and books nothing more:
    // the points are the challenge's 40 and the two orders' own 25 each (loyalty's earning).
    for (const order of orders) await complete(order.id);
    await until(
      () => points(customer.userId),
      (value) => value === 40n + 25n + 25n,
    );
    expect(await services().community.achievements.count({ orderId: orders[0]!.id, at })).toBe(
      'already_counted',
    );
    expect(await entriesOf(challengeTransferId(month, customer.userId))).toBe('2');
    expect(await points(customer.userId)).toBe(90n);
    // A guest's or an unknown order is never counted.
    expect(await crashing.count({ orderId: randomUUID(), at })).toBe('not_counted');
  });

  it('the same events handled by three instances at once: each order counted once, the reward booked once', async () => {
    const customer = await fundedCustomer(world);
    const orders = [];
    for (let index = 0; index < 3; index += 1) orders.push(await deliveredOrder(world, customer.accessToken));
    const instances = [instance(() => false), instance(() => false), instance(() => false)];
    const at = new Date();
    const outcomes = await Promise.all(
      orders.flatMap((order) => instances.map((each) => each.count({ orderId: order.id, at }))),
    );
    expect(outcomes.filter((outcome) => outcome === 'counted')).toHaveLength(3);
    expect(outcomes.filter((outcome) => outcome === 'already_counted')).toHaveLength(6);
    const month = cameroonMonth(at);
    await until(
      () => entriesOf(challengeTransferId(month, customer.userId)),
      (count) => count === '2',
    );
    expect(await points(customer.userId)).toBe(40n);
    const figures = await services()
      .db.selectFrom('community_monthly')
      .select(['orders'])
      .where('user_id', '=', customer.userId)
      .execute();
    expect(figures.map((row) => row.orders)).toEqual([3]);
    const report = await services().ledger.verify({ projections: false });
    expect(report.ok).toBe(true);
  });
});
