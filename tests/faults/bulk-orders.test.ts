/**
 * Fault schedules for bulk orders (docs/community.md, "Bulk orders"): the process dying between
 * the deposit's transfer and its bookkeeping, between the balance's and its mark, and between the
 * escrow's release and the order; a request retried five times at once; the restaurant confirming
 * five times at once; three instances expiring a request at once; the restaurant's confirmation
 * racing the expiry; a cancellation racing the balance. After each: every transfer moved once,
 * the escrow holds exactly what the request's state says, and the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyedUuid } from '../../src/http/idempotency.js';
import type { CreatedUser } from '../helpers/auth.js';
import {
  bulkCalls,
  bulkInstance,
  bulkWorld,
  fundedCustomer,
  hoursAhead,
  idempotencyKey,
} from '../integration/community/bulk-helpers.js';
import type { OrderWorld } from '../integration/orders/helpers.js';
import { expectLedgerVerifies as verifyLedger } from '../helpers/ledger.js';

let world: OrderWorld;
let calls: ReturnType<typeof bulkCalls>;
const services = () => world.testApp.services;
const owner = () => world.actors.owner;

beforeAll(async () => {
  world = await bulkWorld();
  calls = bulkCalls(world);
}, 240_000);
afterAll(async () => world?.testApp.close());

const expectLedgerVerifies = () => verifyLedger(world.testApp);

/** The ids the route derives from a customer's Idempotency-Key. */
function idsOf(customer: CreatedUser, key: string) {
  const scope = `bulk-order:${customer.userId}`;
  return { id: keyedUuid('bulk-order', scope, key), orderId: keyedUuid('bulk-order-order', scope, key) };
}

function input(scheduledFor = hoursAhead(30)) {
  const body = calls.body({ scheduledFor });
  return {
    restaurantId: body.restaurantId as string,
    items: [{ itemId: world.ndoleId, quantity: 20, optionIds: [] }],
    delivery: body.delivery as { latitude: number; longitude: number; text: string },
    scheduledFor,
    note: null,
  };
}

async function requested(scheduledFor = hoursAhead(30)) {
  const customer = await fundedCustomer(world, 200_000n);
  const before = await calls.balance(customer);
  const sent = await calls.request(customer, calls.body({ scheduledFor }));
  expect(sent.statusCode, sent.body).toBe(201);
  return {
    customer,
    before,
    order: sent.json() as { id: string; depositMinor: number; totalMinor: number; respondBy: string },
  };
}

const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

describe('bulk orders under faults', () => {
  it('dies between the deposit and its bookkeeping: the retry with its key finds it, taken once', async () => {
    const customer = await fundedCustomer(world, 200_000n);
    const before = await calls.balance(customer);
    const key = idempotencyKey();
    const payload = input();
    const crashing = bulkInstance(world, { afterTransfer: 'bulk-deposit:' });
    await expect(crashing.request(customer.userId, payload, idsOf(customer, key))).rejects.toThrow('crash');
    const { id } = idsOf(customer, key);
    // The money moved; the request is not the restaurant's to see yet, nor listed.
    expect(await calls.escrow(id)).toBeGreaterThan(0n);
    expect((await calls.read(owner(), id)).statusCode).toBe(404);
    expect((await calls.mine(customer)).json().items).toEqual([]);
    // The phone retries with the same key and body: the same request, the deposit not taken again.
    const retried = await calls.request(
      customer,
      { ...payload, items: [{ itemId: world.ndoleId, quantity: 20 }], note: undefined },
      key,
    );
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.json()).toMatchObject({ id, status: 'requested' });
    const deposit = BigInt(retried.json().depositMinor);
    expect(await calls.escrow(id)).toBe(deposit);
    expect(await calls.balance(customer)).toBe(before - deposit);

    // Another crash, and no retry: the sweep finishes the bookkeeping a minute later.
    const next = idempotencyKey();
    await expect(
      bulkInstance(world, { afterTransfer: 'bulk-deposit:' }).request(
        customer.userId,
        input(),
        idsOf(customer, next),
      ),
    ).rejects.toThrow('crash');
    await Promise.all([services().community.bulk.sweep(later(2)), bulkInstance(world).sweep(later(2))]);
    const swept = (await calls.read(customer, idsOf(customer, next).id)).json();
    expect(swept.status).toBe('requested');
    expect(await calls.balance(customer)).toBe(before - deposit - BigInt(swept.depositMinor));
    await expectLedgerVerifies();
  });

  it('a request sent five times at once with one key: one request, one deposit', async () => {
    const customer = await fundedCustomer(world, 200_000n);
    const before = await calls.balance(customer);
    const key = idempotencyKey();
    const payload = calls.body();
    const answers = await Promise.all(Array.from({ length: 5 }, () => calls.request(customer, payload, key)));
    for (const answer of answers) expect([201, 409], answer.body).toContain(answer.statusCode);
    const made = answers.filter((answer) => answer.statusCode === 201).map((answer) => answer.json().id);
    expect(new Set(made).size).toBe(1);
    const listed = (await calls.mine(customer)).json().items;
    expect(listed).toHaveLength(1);
    expect(await calls.balance(customer)).toBe(before - BigInt(listed[0].depositMinor));
  });

  it('the restaurant confirms five times at once: confirmed once, audited once', async () => {
    const { order } = await requested();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => calls.act(owner(), order.id, 'confirm')),
    );
    for (const answer of answers) expect(answer.statusCode, answer.body).toBe(200);
    const audited = await services()
      .db.selectFrom('audit_logs')
      .select('id')
      .where('action', '=', 'bulk_order.confirmed')
      .where('resource', '=', `bulk_order:${order.id}`)
      .execute();
    expect(audited).toHaveLength(1);
    expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
  });

  it('three instances expire one request at once: the deposit goes back once', async () => {
    const { customer, before, order } = await requested();
    const past = new Date(new Date(order.respondBy).getTime() + 60_000);
    const runs = await Promise.all([
      services().community.bulk.sweep(past),
      bulkInstance(world).sweep(past),
      bulkInstance(world).sweep(past),
    ]);
    // (Other tests' requests past their deadline expire too: the count is not this one's alone.)
    expect(runs.reduce((sum, run) => sum + run.expired, 0)).toBeGreaterThanOrEqual(1);
    expect((await calls.read(customer, order.id)).json()).toMatchObject({ status: 'expired' });
    expect(await calls.balance(customer)).toBe(before);
    expect(await calls.escrow(order.id)).toBe(0n);
    // Sweeps after it find nothing more to give back.
    await services().community.bulk.sweep(new Date(past.getTime() + 120_000));
    expect(await calls.balance(customer)).toBe(before);
    await expectLedgerVerifies();
  });

  it('the confirmation racing the expiry: either confirmed with its deposit held, or expired and refunded once', async () => {
    for (let round = 0; round < 3; round += 1) {
      const { customer, before, order } = await requested();
      const past = new Date(new Date(order.respondBy).getTime() + 60_000);
      const [confirmed] = await Promise.all([
        calls.act(owner(), order.id, 'confirm'),
        bulkInstance(world).sweep(past),
        services().community.bulk.sweep(past),
      ]);
      const status = (await calls.read(customer, order.id)).json().status;
      if (status === 'confirmed') {
        expect(confirmed.statusCode).toBe(200);
        expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
        expect(await calls.balance(customer)).toBe(before - BigInt(order.depositMinor));
      } else {
        expect(status).toBe('expired');
        expect(confirmed.statusCode).toBe(409);
        expect(await calls.escrow(order.id)).toBe(0n);
        expect(await calls.balance(customer)).toBe(before);
      }
    }
  });

  it('a cancellation racing the balance: whatever lands, the escrow ends empty and the wallet owes only the kept part', async () => {
    for (let round = 0; round < 3; round += 1) {
      // Three hours ahead: a confirmed cancellation keeps half the deposit.
      const { customer, before, order } = await requested(hoursAhead(3));
      expect((await calls.act(owner(), order.id, 'confirm')).statusCode).toBe(200);
      await Promise.all([
        calls.act(customer, order.id, 'cancel'),
        calls.act(customer, order.id, 'balance'),
        calls.act(customer, order.id, 'balance'),
      ]);
      await services().community.bulk.sweep(later(2));
      const view = (await calls.read(customer, order.id)).json();
      expect(view.status).toBe('cancelled');
      const kept = BigInt(order.depositMinor) - BigInt(view.depositRefundMinor);
      expect(kept).toBe(BigInt(order.depositMinor) - BigInt(order.depositMinor) / 2n);
      expect(await calls.escrow(order.id)).toBe(0n);
      expect(await calls.balance(customer)).toBe(before - kept);
    }
    await expectLedgerVerifies();
  });

  it('dies between the balance and its mark, then between the release and the order: placed once', async () => {
    const { customer, before, order } = await requested(hoursAhead(30));
    expect((await calls.act(owner(), order.id, 'confirm')).statusCode).toBe(200);
    await expect(
      bulkInstance(world, { afterTransfer: 'bulk-balance:' }).payBalance(customer.userId, order.id),
    ).rejects.toThrow('crash');
    expect((await calls.read(customer, order.id)).json().balancePaid).toBe(false);
    expect(await calls.escrow(order.id)).toBe(BigInt(order.totalMinor));
    await services().community.bulk.sweep(later(2));
    expect((await calls.read(customer, order.id)).json().balancePaid).toBe(true);

    const placementTime = new Date(Date.now() + 30 * 3_600_000 - 119 * 60_000);
    await expect(
      (async () => {
        const crashing = bulkInstance(world, { afterTransfer: 'bulk-release:' });
        await crashing.sweep(placementTime);
        const status = (await calls.read(customer, order.id)).json().status;
        if (status === 'placing') throw new Error('crash seen: placing');
      })(),
    ).rejects.toThrow('crash');
    expect(await calls.escrow(order.id)).toBe(0n);
    // Three instances a minute later: one order, paid once from the wallet the escrow went to.
    const retryAt = new Date(placementTime.getTime() + 120_000);
    await Promise.all([
      services().community.bulk.sweep(retryAt),
      bulkInstance(world).sweep(retryAt),
      bulkInstance(world).sweep(retryAt),
    ]);
    const placed = (await calls.read(customer, order.id)).json();
    expect(placed.status).toBe('placed');
    expect((await services().orders.orders.find(placed.orderId))?.state.status).toBe('PLACED');
    expect(await calls.balance(customer)).toBe(before - BigInt(order.totalMinor));
    await expectLedgerVerifies();
  });
});
