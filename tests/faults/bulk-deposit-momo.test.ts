/**
 * Fault schedules for a bulk order's deposit (and balance) paid directly by Mobile Money
 * (docs/community.md, "Paying by Mobile Money"), end to end through the route, payments' router
 * and the CamPay simulator, into the request's own escrow: the provider's success never recorded
 * by us (the crash between the provider's success and the escrow booking: the sweep books it);
 * duplicate and out-of-order webhooks and reads racing; a failed collection leaving the request
 * payable again; the request cancelled while its collection is in flight (the money goes back to
 * the wallet); a provider timeout (503, the request payable again); several workers settling the
 * same payment at once. After each: the escrow holds exactly the deposit (or nothing once ended)
 * and the ledger verifies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAGIC_NUMBERS } from '../../src/modules/payments/simulators/index.js';
import { createUser, type CreatedUser } from '../helpers/auth.js';
import { expectLedgerVerifies as verifyLedger } from '../helpers/ledger.js';
import {
  bulkCalls,
  bulkWorld,
  fundedCustomer,
  idempotencyKey,
} from '../integration/community/bulk-helpers.js';
import type { OrderWorld } from '../integration/orders/helpers.js';
import { until } from '../integration/payments/helpers.js';

const { MTN } = MAGIC_NUMBERS;
let world: OrderWorld;
let calls: ReturnType<typeof bulkCalls>;
const services = () => world.testApp.services;
const owner = () => world.actors.owner;
const payments = () => services().payments.payments;
const simulators = () => services().payments.providers.simulators!;

beforeAll(async () => {
  world = await bulkWorld({ PAYMENT_POLL_INITIAL_DELAY_MS: '600000' });
  calls = bulkCalls(world);
}, 240_000);
afterAll(async () => world?.testApp.close());

const expectLedgerVerifies = () => verifyLedger(world.testApp);
const later = (minutes: number) => new Date(Date.now() + minutes * 60_000);

async function control(path: string, body: unknown = {}): Promise<void> {
  const response = await fetch(`${simulators().campayControlUrl}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  expect(response.status, `${path}: ${await response.text()}`).toBeLessThan(300);
}

async function providerReference(paymentId: string): Promise<string> {
  const row = await services()
    .db.selectFrom('payment_attempts')
    .select('provider_reference')
    .where('payment_id', '=', paymentId)
    .executeTakeFirstOrThrow();
  return row.provider_reference!;
}

async function customer(): Promise<CreatedUser> {
  return createUser(world.testApp, { roles: ['customer'] });
}

/** A request whose deposit is collected from `phone` (202, awaiting its deposit). */
async function byMobileMoney(user: CreatedUser, phone: string, key = idempotencyKey()) {
  const payload = calls.body({ payment: { method: 'mobile_money', phone } });
  const sent = await calls.request(user, payload, key);
  expect(sent.statusCode, sent.body).toBe(202);
  const body = sent.json() as {
    bulkOrder: { id: string; status: string; depositMinor: number; depositPaid: boolean; collecting: string };
    collection: { paymentId: string; status: string; amountMinor: number };
  };
  expect(body.bulkOrder).toMatchObject({
    status: 'awaiting_deposit',
    depositPaid: false,
    collecting: 'deposit',
  });
  expect(body.collection.amountMinor).toBe(body.bulkOrder.depositMinor);
  return { key, payload, sent, order: body.bulkOrder, paymentId: body.collection.paymentId };
}

const statusOf = async (user: CreatedUser, id: string) => (await calls.read(user, id)).json();

describe('a bulk order deposit by Mobile Money under faults', () => {
  it('lands in escrow once: duplicate and out-of-order webhooks, reads and settles racing, a retried request', async () => {
    const user = await customer();
    const { key, payload, order, paymentId } = await byMobileMoney(user, MTN.pendingForever);
    // The restaurant sees nothing before the deposit lands.
    expect((await calls.read(owner(), order.id)).statusCode).toBe(404);
    const reference = await providerReference(paymentId);
    // A FAILED webhook for a pending payment first (out of order: the re-read says PENDING).
    await control(`transactions/${reference}/webhook`, { status: 'FAILED' });
    await control(`transactions/${reference}/approve`);
    await Promise.all([
      control(`transactions/${reference}/webhook`),
      control(`transactions/${reference}/webhook`),
      payments().refresh(paymentId),
      payments().refresh(paymentId),
      payments().settle(paymentId),
    ]);
    await until(
      () => calls.escrow(order.id),
      (held) => held === BigInt(order.depositMinor),
    );
    // The same request again with its key: the same request and collection, nothing collected twice.
    const retried = await calls.request(user, payload, key);
    expect([201, 202], retried.body).toContain(retried.statusCode);
    await Promise.all([payments().settle(paymentId), services().community.bulk.sweep(later(2))]);
    expect(await statusOf(user, order.id)).toMatchObject({
      status: 'requested',
      depositPaid: true,
      collecting: null,
    });
    expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
    expect(await calls.balance(user)).toBe(0n);
    expect((await calls.read(owner(), order.id)).statusCode).toBe(200);
    await expectLedgerVerifies();
  });

  it('the provider succeeded and we never booked it (no webhook, no poll): the sweep books it into escrow once', async () => {
    const user = await customer();
    const { order, paymentId } = await byMobileMoney(user, MTN.pendingForever);
    await control(`transactions/${await providerReference(paymentId)}/approve`);
    expect(await calls.escrow(order.id)).toBe(0n);
    await Promise.all([services().community.bulk.sweep(later(2)), services().community.bulk.sweep(later(2))]);
    expect(await statusOf(user, order.id)).toMatchObject({ status: 'requested', depositPaid: true });
    expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
    await services().community.bulk.sweep(later(3));
    expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
    await expectLedgerVerifies();
  });

  it('a failed collection leaves the request payable again; the next one lands', async () => {
    const user = await customer();
    const { order, paymentId } = await byMobileMoney(user, MTN.pendingForever);
    await control(`transactions/${await providerReference(paymentId)}/fail`);
    await payments().refresh(paymentId);
    expect(await statusOf(user, order.id)).toMatchObject({ status: 'awaiting_deposit', collecting: null });
    // A second collection while none is in flight is taken; with one in flight it is a 409.
    const again = await calls.act(
      user,
      order.id,
      'deposit',
      { method: 'mobile_money', phone: MTN.pendingForever },
      { 'idempotency-key': idempotencyKey() },
    );
    expect(again.statusCode, again.body).toBe(202);
    const third = await calls.act(
      user,
      order.id,
      'deposit',
      { method: 'mobile_money', phone: MTN.pendingForever },
      { 'idempotency-key': idempotencyKey() },
    );
    expect(third.statusCode, third.body).toBe(409);
    expect(third.json().type).toContain('bulk_order_collection_pending');
    const second = again.json().collection.paymentId as string;
    await control(`transactions/${await providerReference(second)}/approve`);
    await payments().refresh(second);
    expect(await statusOf(user, order.id)).toMatchObject({ status: 'requested', depositPaid: true });
    expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
    await expectLedgerVerifies();
  });

  it('the request cancelled while its collection is in flight: the money lands, then goes back to the wallet once', async () => {
    const user = await customer();
    const { order, paymentId } = await byMobileMoney(user, MTN.pendingForever);
    const cancelled = await calls.act(user, order.id, 'cancel');
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled', depositRefundMinor: 0 });
    const reference = await providerReference(paymentId);
    await control(`transactions/${reference}/approve`);
    await Promise.all([
      payments().refresh(paymentId),
      payments().settle(paymentId),
      control(`transactions/${reference}/webhook`),
    ]);
    await until(
      () => calls.balance(user),
      (balance) => balance === BigInt(order.depositMinor),
    );
    await payments().settle(paymentId);
    expect(await calls.escrow(order.id)).toBe(0n);
    expect(await calls.balance(user)).toBe(BigInt(order.depositMinor));
    expect(await statusOf(user, order.id)).toMatchObject({ status: 'cancelled' });
    await expectLedgerVerifies();
  });

  it('the provider times out: 503, nothing held, the request payable again', async () => {
    const user = await customer();
    const sent = await calls.request(
      user,
      calls.body({ payment: { method: 'mobile_money', phone: MTN.primaryTimeout } }),
    );
    expect([502, 503], sent.body).toContain(sent.statusCode);
    const mine = (await calls.mine(user)).json().items as { id: string; status: string; collecting: null }[];
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ status: 'awaiting_deposit', collecting: null });
    expect(await calls.escrow(mine[0]!.id)).toBe(0n);
    // Unpaid by its deadline, it expires with nothing to give back.
    const respondBy = new Date((await statusOf(user, mine[0]!.id)).respondBy as string);
    await services().community.bulk.sweep(new Date(respondBy.getTime() + 60_000));
    expect(await statusOf(user, mine[0]!.id)).toMatchObject({ status: 'expired', depositRefundMinor: 0 });
    expect(await calls.escrow(mine[0]!.id)).toBe(0n);
    await expectLedgerVerifies();
  });

  it('the balance by Mobile Money: three workers settle the same success at once, the escrow holds the total once', async () => {
    const user = await fundedCustomer(world, 200_000n);
    const sent = await calls.request(user, calls.body());
    expect(sent.statusCode, sent.body).toBe(201);
    const order = sent.json() as { id: string; totalMinor: number; balanceMinor: number };
    expect((await calls.act(owner(), order.id, 'confirm')).statusCode).toBe(200);
    const started = await calls.act(
      user,
      order.id,
      'balance/mobile-money',
      { method: 'mobile_money', phone: MTN.pendingForever },
      { 'idempotency-key': idempotencyKey() },
    );
    expect(started.statusCode, started.body).toBe(202);
    expect(started.json().bulkOrder.collecting).toBe('balance');
    const paymentId = started.json().collection.paymentId as string;
    // The wallet route refuses while the collection is in flight.
    const byWallet = await calls.act(user, order.id, 'balance');
    expect(byWallet.statusCode, byWallet.body).toBe(409);
    await control(`transactions/${await providerReference(paymentId)}/approve`);
    await Promise.all([
      payments().refresh(paymentId),
      payments().settle(paymentId),
      payments().settle(paymentId),
      services().community.bulk.sweep(later(2)),
    ]);
    expect(await statusOf(user, order.id)).toMatchObject({ status: 'confirmed', balancePaid: true });
    expect(await calls.escrow(order.id)).toBe(BigInt(order.totalMinor));
    await expectLedgerVerifies();
  });
});
