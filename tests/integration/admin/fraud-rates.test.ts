import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { until } from '../payments/helpers.js';

/**
 * Refund and dispute abuse (docs/admin.md "Refund and dispute rates"), from real orders through
 * the whole lifecycle: at least 2 disputes (refunds) and half of the account's orders in the window
 * open a case; fewer, or a lower share, open none.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({
    FRAUD_RATE_MIN_COUNT: '2',
    FRAUD_DISPUTE_RATE_PERCENT: '50',
    FRAUD_REFUND_RATE_PERCENT: '50',
    FRAUD_ORDERS_PER_ACCOUNT: '100',
    FRAUD_CANCELS_PER_ACCOUNT: '100',
  });
}, 120_000);
afterAll(async () => world?.testApp.close());

async function placed(customer: CreatedUser): Promise<{ id: string; deliveryPin: string }> {
  const response = await placeOrder(world, customer.accessToken);
  expect(response.statusCode, response.body).toBe(201);
  return response.json();
}

/** Placed, then taken through every step to DELIVERED and disputed by its customer. */
async function disputed(customer: CreatedUser, order: { id: string; deliveryPin: string }): Promise<void> {
  const { owner } = world.actors;
  const step = async (action: string, token: string, payload: Record<string, unknown> = {}) => {
    const response = await act(world, order.id, action, token, payload);
    expect(response.statusCode, `${action}: ${response.body}`).toBe(200);
    return response.json();
  };
  const { pickupCode } = await step('accept', owner.accessToken, { preparationMinutes: 10 });
  await step('prepare', owner.accessToken);
  await step('claim', world.driver.accessToken);
  await step('ready', owner.accessToken);
  await step('pickup', world.driver.accessToken, { pickupCode });
  await step('deliver', world.driver.accessToken, { deliveryPin: order.deliveryPin });
  await step('dispute', customer.accessToken, { reason: 'not what I ordered' });
}

const resolve = (orderId: string, refundMinor: number) =>
  act(world, orderId, 'resolve', world.support.accessToken, {
    refundMinor,
    note: 'checked with the restaurant',
  });

const casesOf = (userId: string) =>
  world.testApp.services.db
    .selectFrom('admin_fraud_cases')
    .select(['rule', 'signals', 'reason', 'score'])
    .where('user_id', '=', userId)
    .where('rule', 'in', ['dispute_rate', 'refund_rate'])
    .orderBy('rule')
    .execute();

const signalsOf = (userId: string, rule: string) =>
  world.testApp.services.db
    .selectFrom('admin_fraud_signals')
    .select('source_id')
    .where('user_id', '=', userId)
    .where(sql<boolean>`${rule} = ANY(rules)`)
    .execute();

describe('refund and dispute rates', () => {
  it('two orders, both disputed and refunded: a dispute_rate case and a refund_rate case', async () => {
    const { customer } = world.actors;
    const orders = [await placed(customer), await placed(customer)];
    for (const order of orders) await disputed(customer, order);
    for (const order of orders) expect((await resolve(order.id, 500)).statusCode).toBe(200);
    const cases = await until(
      () => casesOf(customer.userId),
      (rows) => rows.length === 2,
      30_000,
    );
    expect(cases.map((row) => row.rule)).toEqual(['dispute_rate', 'refund_rate']);
    expect(cases[0]!.reason).toMatch(/^2 of 2 orders disputed by their customer within 30 days \(100 %/);
    expect(cases[1]!.reason).toMatch(/^2 of 2 orders refunded after a dispute/);
  });

  it('two disputes of five orders (40 %), one refunded: no case', async () => {
    const other = await createUser(world.testApp, { roles: ['customer'] });
    const orders = [];
    for (let index = 0; index < 5; index += 1) orders.push(await placed(other));
    await disputed(other, orders[0]!);
    await disputed(other, orders[1]!);
    expect((await resolve(orders[0]!.id, 300)).statusCode).toBe(200);
    expect((await resolve(orders[1]!.id, 0)).statusCode).toBe(200);
    // The reactor has seen them all (one refund signal, two dispute signals) and opened nothing.
    await until(
      async () => [
        (await signalsOf(other.userId, 'dispute_rate')).length,
        (await signalsOf(other.userId, 'refund_rate')).length,
      ],
      ([disputes, refunds]) => disputes === 2 && refunds === 1,
      30_000,
    );
    expect(await casesOf(other.userId)).toEqual([]);
  });
});
