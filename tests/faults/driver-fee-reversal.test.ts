/**
 * Fault schedules for the reversal of a driver's fee after a dispute decided against the delivery
 * (issue #20, docs/dispatch.md "Fee reversals"): the process dying after the ledger booked the
 * reversal and before the answer, the ledger unreachable before booking, two instances (and a
 * retried request) reversing at once, and a driver who already withdrew the fee.
 *
 * After each schedule: the order's fee was reversed at most once and exactly once when the answer
 * said so (one debit of `drv:fee-reversal:<orderId>` on the driver's payable, the amount of the
 * booked fee), the driver's earnings view shows the fee gone, and the ledger verifies.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { driverPayableId, worldId, type Transfer } from '../../ledger/rules/index.js';
import { createFeeReversals, type FeeReversals } from '../../src/modules/dispatch/fee-reversals.js';
import { createEarningsRepository } from '../../src/modules/dispatch/earnings-repository.js';
import { authHeader, withStepUp } from '../helpers/auth.js';
import { deliveredOrder, fundedCustomer, loyaltyWorld, until } from '../integration/loyalty/helpers.js';
import { act, type OrderWorld } from '../integration/orders/helpers.js';

let world: OrderWorld;
let financeToken: string;

beforeAll(async () => {
  world = await loyaltyWorld({});
  financeToken = await withStepUp(world.testApp, world.actors.admin);
}, 120_000);
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const earningsRepository = () =>
  createEarningsRepository(services().db as unknown as Parameters<typeof createEarningsRepository>[0]);
const transferIdOf = (orderId: string) => `drv:fee-reversal:${orderId}`;

const reverse = (orderId: string, headers: Record<string, string> = {}, token = financeToken) =>
  world.testApp.app.inject({
    method: 'POST',
    url: '/v1/admin/drivers/fee-reversals',
    headers: { ...authHeader(token), ...headers },
    payload: { orderId, reason: 'the food arrived cold and spilled: the delivery was at fault' },
  });

/** A delivered order, disputed by its customer and resolved by support with a refund. */
async function resolvedOrder(): Promise<{ id: string; feeMinor: bigint }> {
  const customer = await fundedCustomer(world);
  const order = await deliveredOrder(world, customer.accessToken);
  const disputed = await act(world, order.id, 'dispute', customer.accessToken, {
    reason: 'spilled and cold',
  });
  expect(disputed.statusCode, disputed.body).toBe(200);
  const resolved = await act(world, order.id, 'resolve', world.support.accessToken, {
    refundMinor: 1_000,
    note: 'the driver dropped the bag',
  });
  expect(resolved.statusCode, resolved.body).toBe(200);
  const fee = await until(
    () => earningsRepository().driverFeeOf(order.id),
    (found) => found !== undefined,
    20_000,
  );
  expect(fee!.driverId).toBe(world.driver.userId);
  return { id: order.id, feeMinor: fee!.amountMinor };
}

async function reversalDebits(orderId: string): Promise<bigint[]> {
  const result = await sql<{ amount: string }>`SELECT amount_minor::text AS amount FROM ledger_entries
    WHERE transfer_id = ${transferIdOf(orderId)} AND side = 'debit'`.execute(services().db);
  return result.rows.map((row) => BigInt(row.amount));
}

/** The schedule's invariants: reversed exactly once (or never), the earnings view agrees, the ledger verifies. */
async function expectSound(order: { id: string; feeMinor: bigint }, reversed: boolean) {
  await until(
    () => reversalDebits(order.id),
    (debits) => debits.length === (reversed ? 1 : 0),
    20_000,
  );
  const debits = await reversalDebits(order.id);
  if (reversed) expect(debits).toEqual([order.feeMinor]);
  const from = new Date(Date.now() - 3_600_000).toISOString();
  const to = new Date(Date.now() + 60_000).toISOString();
  const earnings = await world.testApp.app.inject({
    method: 'GET',
    url: `/v1/drivers/me/earnings?period=day&from=${from}&to=${to}`,
    headers: authHeader(world.driver.accessToken),
  });
  expect(earnings.statusCode, earnings.body).toBe(200);
  const line = earnings
    .json()
    .deliveries.find((delivery: { orderId: string }) => delivery.orderId === order.id);
  expect(BigInt(line.feeMinor)).toBe(reversed ? 0n : order.feeMinor);
  const report = await services().ledger.verify({ projections: false });
  expect(report.mismatches).toEqual([]);
  expect(report.ok).toBe(true);
}

/** Another instance's reversals over a ledger that fails at `point` (the throw stands for the process stopping there). */
function faultyInstance(point: 'before_booking' | 'after_booking'): FeeReversals {
  const ledger = services().ledger;
  return createFeeReversals({
    ledger: () => ({
      async submit(transfers: readonly Transfer[]) {
        if (point === 'before_booking') throw new Error('fault: the ledger is unreachable');
        await ledger.submit(transfers);
        throw new Error('fault: the process stopped after the ledger booked');
      },
    }),
    orders: () => services().orders.orders,
    earnings: earningsRepository(),
    identity: { audit: async () => undefined },
  });
}
const actor = () => ({ kind: 'user' as const, userId: world.actors.admin.userId });

describe('driver fee reversal under faults', () => {
  it('the process dies after the ledger booked: the retry answers already_reversed and books nothing more', async () => {
    const order = await resolvedOrder();
    await expect(faultyInstance('after_booking').reverse(order.id, 'at fault', actor())).rejects.toThrow(
      /after the ledger booked/,
    );
    const retried = await reverse(order.id);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({
      orderId: order.id,
      driverId: world.driver.userId,
      amountMinor: Number(order.feeMinor),
      status: 'already_reversed',
    });
    await expectSound(order, true);
  });

  it('the ledger is unreachable before booking: nothing moves; the retry books once', async () => {
    const order = await resolvedOrder();
    await expect(faultyInstance('before_booking').reverse(order.id, 'at fault', actor())).rejects.toThrow(
      /unreachable/,
    );
    await expectSound(order, false);
    const retried = await reverse(order.id);
    expect(retried.json()).toMatchObject({ status: 'reversed', transferId: transferIdOf(order.id) });
    await expectSound(order, true);
  });

  it('two instances and a retried request at once: one booking, every answer names it', async () => {
    const order = await resolvedOrder();
    const key = randomUUID();
    const answers = await Promise.all([
      services().dispatch.feeReversals.reverse(order.id, 'at fault', actor()),
      services().dispatch.feeReversals.reverse(order.id, 'at fault', actor()),
      reverse(order.id, { 'idempotency-key': key }).then((response) => response.json()),
    ]);
    expect(answers.filter((answer) => answer.status === 'reversed')).toHaveLength(1);
    expect(answers.every((answer) => answer.transferId === transferIdOf(order.id))).toBe(true);
    const replayed = await reverse(order.id, { 'idempotency-key': key });
    expect(replayed.json()).toEqual(answers[2]);
    await expectSound(order, true);
    const audits = await services()
      .db.selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `order:${order.id}`)
      .where('action', '=', 'driver_fee.reversed')
      .execute();
    expect(audits).toHaveLength(1);
  });

  it('a driver who withdrew the fee: 409 and nothing moves; once they hold it again, it books once', async () => {
    const order = await resolvedOrder();
    const payable = driverPayableId(world.driver.userId, 'XAF');
    const held = (await services().ledger.account(payable))!;
    const balance = held.creditsPosted! - held.debitsPosted! - (held.debitsPending ?? 0n);
    // The driver's whole balance leaves (a transfer out standing for a payout).
    const [paidOut] = await services().ledger.submit([
      {
        id: `test-payout:${order.id}`,
        debitAccountId: payable,
        creditAccountId: worldId('XAF'),
        amountMinor: balance,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(paidOut!.result).toBe('ok');
    const refused = await reverse(order.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'driver_balance_insufficient',
      amountMinor: Number(order.feeMinor),
    });
    await expectSound(order, false);
    // Another delivery pays the driver again: the same reversal now books.
    await deliveredOrder(world, (await fundedCustomer(world)).accessToken);
    const booked = await reverse(order.id);
    expect(booked.json()).toMatchObject({ status: 'reversed' });
    await expectSound(order, true);
  });

  it('refuses what is not a resolved dispute, unknown orders and callers without finance rights, changing nothing', async () => {
    const customer = await fundedCustomer(world);
    const delivered = await deliveredOrder(world, customer.accessToken);
    const early = await reverse(delivered.id);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'driver_fee_not_reversible', orderStatus: 'DELIVERED' });
    expect((await reverse(randomUUID())).statusCode).toBe(404);
    expect((await reverse(delivered.id, {}, world.support.accessToken)).statusCode).toBe(403);
    expect((await reverse(delivered.id, {}, world.driver.accessToken)).statusCode).toBe(403);
    const malformed = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/admin/drivers/fee-reversals',
      headers: authHeader(financeToken),
      payload: { orderId: 'not-a-uuid', reason: '' },
    });
    expect(malformed.statusCode).toBe(400);
    expect(await reversalDebits(delivered.id)).toEqual([]);
  });
});
