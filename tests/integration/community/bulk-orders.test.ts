/**
 * Bulk orders (docs/community.md, "Bulk orders"), against the real PostgreSQL and ledger: a
 * customer requests 20 portions with a deposit held in escrow, the restaurant's owner confirms,
 * the balance is paid and the order is placed once at its time; refusal, a proposed time,
 * cancellations before and after the cutoff, an unpaid balance; who may see and act; bad input
 * changes nothing; pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { bulkCalls, bulkWorld, fundedCustomer, hoursAhead, idempotencyKey } from './bulk-helpers.js';
import { expectLedgerVerifies as verifyLedger } from '../../helpers/ledger.js';

interface BulkView {
  id: string;
  depositMinor: number;
  totalMinor: number;
  respondBy: string;
  balanceDueBy: string;
}

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

/** A funded customer's request, sent (deposit taken): its view and the wallet before it. */
async function requested(payload: Record<string, unknown> = {}) {
  const customer = await fundedCustomer(world, 200_000n);
  const before = await calls.balance(customer);
  const sent = await calls.request(customer, calls.body(payload));
  expect(sent.statusCode, sent.body).toBe(201);
  return { customer, before, order: sent.json() as BulkView };
}

describe('bulk orders', () => {
  it('requested with a deposit in escrow, confirmed, balance paid, placed once at its time', async () => {
    const customer = await fundedCustomer(world, 200_000n);
    const before = await calls.balance(customer);
    const key = idempotencyKey();
    const payload = calls.body();
    const sent = await calls.request(customer, payload, key);
    expect(sent.statusCode, sent.body).toBe(201);
    const order = sent.json();
    expect(sent.headers.location).toBe(`/v1/bulk-orders/${order.id}`);
    expect(order.status).toBe('requested');
    expect(order.items).toEqual([{ itemId: world.ndoleId, quantity: 20, optionIds: [] }]);
    // 30 % of orders' own quote, rounded up; the rest is the balance.
    expect(order.depositMinor).toBe(Math.ceil((order.totalMinor * 30) / 100));
    expect(order.depositMinor + order.balanceMinor).toBe(order.totalMinor);
    expect(order.totalMinor).toBeGreaterThan(20 * 2_500);
    expect(await calls.escrow(order.id)).toBe(BigInt(order.depositMinor));
    expect(await calls.balance(customer)).toBe(before - BigInt(order.depositMinor));
    // The same request again (its answer was lost): the same bulk order, the deposit taken once.
    const again = await calls.request(customer, payload, key);
    expect(again.json().id).toBe(order.id);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await calls.balance(customer)).toBe(before - BigInt(order.depositMinor));

    // The restaurant's owner sees it and confirms it (twice: once).
    const listed = await calls.ofRestaurant(owner(), '?status=requested');
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items.map((each: { id: string }) => each.id)).toContain(order.id);
    for (let round = 0; round < 2; round += 1) {
      const confirmed = await calls.act(owner(), order.id, 'confirm');
      expect(confirmed.statusCode, confirmed.body).toBe(200);
      expect(confirmed.json().status).toBe('confirmed');
    }
    // The balance, retried with its key: paid once.
    const balanceKey = idempotencyKey();
    const paid = await calls.act(customer, order.id, 'balance', undefined, { 'idempotency-key': balanceKey });
    expect(paid.statusCode, paid.body).toBe(200);
    expect(paid.json().balancePaid).toBe(true);
    expect(
      (await calls.act(customer, order.id, 'balance', undefined, { 'idempotency-key': balanceKey }))
        .statusCode,
    ).toBe(200);
    expect((await calls.act(customer, order.id, 'balance')).json().balancePaid).toBe(true);
    expect(await calls.escrow(order.id)).toBe(BigInt(order.totalMinor));
    expect(await calls.balance(customer)).toBe(before - BigInt(order.totalMinor));

    // Nothing happens before the placement time; at it, the order enters the normal flow once.
    await services().community.bulk.sweep(new Date());
    expect((await calls.read(customer, order.id)).json().status).toBe('confirmed');
    const placementTime = new Date(new Date(order.scheduledFor).getTime() - 119 * 60_000);
    await Promise.all([
      services().community.bulk.sweep(placementTime),
      services().community.bulk.sweep(placementTime),
    ]);
    const placed = (await calls.read(customer, order.id)).json();
    expect(placed.status, JSON.stringify(placed)).toBe('placed');
    const found = await services().orders.orders.find(placed.orderId);
    expect(found?.state.status).toBe('PLACED');
    expect(found?.state.order?.scheduledFor).toBe(order.scheduledFor);
    expect(await calls.escrow(order.id)).toBe(0n);
    // The wallet paid exactly the order's total: the deposit and balance came back and paid it.
    expect(await calls.balance(customer)).toBe(before - BigInt(order.totalMinor));
    await expectLedgerVerifies();
  });

  it('refused by the restaurant: the deposit goes back whole, once', async () => {
    const { customer, before, order } = await requested();
    const refused = await calls.act(owner(), order.id, 'refuse', { reason: 'Complet ce jour-là' });
    expect(refused.statusCode, refused.body).toBe(200);
    expect(refused.json()).toMatchObject({ status: 'refused', depositRefundMinor: order.depositMinor });
    expect((await calls.act(owner(), order.id, 'refuse', {})).statusCode).toBe(200);
    expect((await calls.act(owner(), order.id, 'confirm')).statusCode).toBe(409);
    expect(await calls.balance(customer)).toBe(before);
    expect(await calls.escrow(order.id)).toBe(0n);
  });

  it('a proposed time: the customer accepts it and the order is confirmed for that time', async () => {
    const { customer, order } = await requested();
    const later = hoursAhead(40);
    const proposed = await calls.act(owner(), order.id, 'propose', {
      scheduledFor: later,
      note: 'Midi plutôt',
    });
    expect(proposed.statusCode, proposed.body).toBe(200);
    expect(proposed.json().proposal).toEqual({
      scheduledFor: new Date(later).toISOString(),
      note: 'Midi plutôt',
    });
    expect((await calls.act(owner(), order.id, 'confirm')).statusCode).toBe(409);
    const accepted = await calls.act(customer, order.id, 'accept');
    expect(accepted.statusCode, accepted.body).toBe(200);
    expect(accepted.json()).toMatchObject({
      status: 'confirmed',
      scheduledFor: new Date(later).toISOString(),
    });
  });

  it('cancelled before the cutoff: the deposit back whole; after it: half, the rest to the restaurant', async () => {
    const early = await requested();
    expect((await calls.act(owner(), early.order.id, 'confirm')).statusCode).toBe(200);
    const cancelled = await calls.act(early.customer, early.order.id, 'cancel');
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json()).toMatchObject({
      status: 'cancelled',
      depositRefundMinor: early.order.depositMinor,
    });
    expect(await calls.balance(early.customer)).toBe(early.before);

    // Three hours ahead: inside the 24 h cutoff from the start, so a confirmed one keeps half.
    const late = await requested({ scheduledFor: hoursAhead(3) });
    expect((await calls.act(owner(), late.order.id, 'confirm')).statusCode).toBe(200);
    expect((await calls.act(late.customer, late.order.id, 'balance')).statusCode).toBe(200);
    const payable = await services().ledger.account(`payable:restaurant:${world.restaurantId}:XAF`);
    const payableBefore = payable === null ? 0n : payable.creditsPosted - payable.debitsPosted;
    const gone = await calls.act(late.customer, late.order.id, 'cancel');
    expect(gone.statusCode, gone.body).toBe(200);
    const kept = BigInt(late.order.depositMinor) - BigInt(gone.json().depositRefundMinor);
    expect(BigInt(gone.json().depositRefundMinor)).toBe(BigInt(late.order.depositMinor) / 2n);
    expect(await calls.balance(late.customer)).toBe(late.before - kept);
    const payableAfter = await services().ledger.account(`payable:restaurant:${world.restaurantId}:XAF`);
    expect(payableAfter!.creditsPosted - payableAfter!.debitsPosted).toBe(payableBefore + kept);
    expect(await calls.escrow(late.order.id)).toBe(0n);
    expect((await calls.act(late.customer, late.order.id, 'cancel')).statusCode).toBe(200);
    expect(await calls.balance(late.customer)).toBe(late.before - kept);
    await expectLedgerVerifies();
  });

  it('unanswered, it expires and the deposit goes back; an unpaid balance cancels it late', async () => {
    const silent = await requested();
    const afterDeadline = new Date(new Date(silent.order.respondBy).getTime() + 60_000);
    await services().community.bulk.sweep(afterDeadline);
    expect((await calls.read(silent.customer, silent.order.id)).json()).toMatchObject({ status: 'expired' });
    expect(await calls.balance(silent.customer)).toBe(silent.before);

    const unpaid = await requested();
    expect((await calls.act(owner(), unpaid.order.id, 'confirm')).statusCode).toBe(200);
    const overdue = new Date(new Date(unpaid.order.balanceDueBy).getTime() + 60_000);
    await services().community.bulk.sweep(overdue);
    const view = (await calls.read(unpaid.customer, unpaid.order.id)).json();
    expect(view).toMatchObject({ status: 'cancelled', failure: 'balance_unpaid' });
    expect(BigInt(view.depositRefundMinor)).toBe(BigInt(unpaid.order.depositMinor) / 2n);
    expect(await calls.escrow(unpaid.order.id)).toBe(0n);
  });

  it('only its customer and its restaurant’s owner see or act on it (404 for others)', async () => {
    const { customer, order } = await requested();
    const stranger = await fundedCustomer(world);
    const otherOwner = await createUser(world.testApp, { roles: ['customer', 'restaurant_owner'] });
    expect((await calls.read(stranger, order.id)).statusCode).toBe(404);
    expect((await calls.read(otherOwner, order.id)).statusCode).toBe(404);
    expect((await calls.act(otherOwner, order.id, 'confirm')).statusCode).toBe(404);
    expect((await calls.act(stranger, order.id, 'cancel')).statusCode).toBe(404);
    expect((await calls.ofRestaurant(otherOwner)).statusCode).toBe(404);
    // A customer is not the restaurant: confirming is not theirs (no ORDER_PROCESSING).
    expect((await calls.act(customer, order.id, 'confirm')).statusCode).toBe(403);
    expect((await calls.request(world.driver)).statusCode).toBe(403);
    const anonymous = await calls.inject({ method: 'GET', url: `/v1/bulk-orders/${order.id}` });
    expect(anonymous.statusCode).toBe(401);
    expect((await calls.read(owner(), order.id)).statusCode).toBe(200);
    expect((await calls.read(world.actors.admin, order.id)).statusCode).toBe(200);
    expect((await calls.read(customer, order.id)).json().status).toBe('requested');
  });

  it('bad input is a 4xx problem and changes nothing', async () => {
    const customer = await fundedCustomer(world, 200_000n);
    const before = await calls.balance(customer);
    const cases: [Record<string, unknown>, number, string][] = [
      [{ items: [{ itemId: world.ndoleId, quantity: 19 }] }, 422, 'bulk_order_too_small'],
      [{ scheduledFor: hoursAhead(1) }, 422, 'bulk_order_time'],
      [{ scheduledFor: hoursAhead(24 * 8) }, 422, 'bulk_order_time'],
      [{ restaurantId: '00000000-0000-4000-8000-000000000000' }, 404, 'restaurant_not_found'],
      [{ note: 'a\u0000b' }, 400, 'invalid_characters'],
      [{ note: 'x'.repeat(10_000) }, 400, 'validation_failed'],
      [{ scheduledFor: null }, 400, 'validation_failed'],
      [{ items: [{ itemId: world.ndoleId, quantity: 51 }] }, 400, 'validation_failed'],
      [
        { items: [{ itemId: '00000000-0000-4000-8000-000000000001', quantity: 20 }] },
        422,
        'items_unavailable',
      ],
    ];
    for (const [change, status, code] of cases) {
      const answer = await calls.request(customer, calls.body(change));
      expect(answer.statusCode, `${JSON.stringify(change).slice(0, 80)}: ${answer.body}`).toBe(status);
      expect(answer.headers['content-type']).toContain('application/problem+json');
      if (status !== 400 || code === 'invalid_characters') expect(answer.json().code).toBe(code);
    }
    const noKey = await calls.inject({
      method: 'POST',
      url: '/v1/bulk-orders',
      headers: calls.as(customer),
      payload: calls.body(),
    });
    expect(noKey.statusCode).toBe(400);
    // In French, with the French text.
    const french = await calls.request(
      customer,
      calls.body({ scheduledFor: hoursAhead(1) }),
      idempotencyKey(),
      {
        'accept-language': 'fr',
      },
    );
    expect(french.json().detail).toBe('Une commande en gros est prévue de 2 heures à 7 jours à l’avance.');
    // A wallet too short for the deposit: 422, no request made, nothing taken.
    const poor = await fundedCustomer(world, 1_000n);
    const short = await calls.request(poor);
    expect(short.statusCode, short.body).toBe(422);
    expect(short.json().code).toBe('insufficient_funds');
    expect(await calls.balance(poor)).toBe(1_000n);
    expect((await calls.mine(poor)).json().items).toEqual([]);
    expect(await calls.balance(customer)).toBe(before);
    expect((await calls.mine(customer)).json().items).toEqual([]);
    expect((await calls.mine(customer, '?cursor=bm9wZQ')).statusCode).toBe(400);
  });

  it('pages of your bulk orders, newest first, with an opaque cursor', async () => {
    const customer = await fundedCustomer(world, 300_000n);
    const ids: string[] = [];
    for (let index = 0; index < 3; index += 1) {
      const sent = await calls.request(customer, calls.body({ scheduledFor: hoursAhead(30 + index) }));
      expect(sent.statusCode, sent.body).toBe(201);
      ids.push(sent.json().id);
    }
    const first = (await calls.mine(customer, '?limit=2')).json();
    expect(first.items.map((each: { id: string }) => each.id)).toEqual([ids[2], ids[1]]);
    const second = (await calls.mine(customer, `?limit=2&cursor=${first.nextCursor}`)).json();
    expect(second.items.map((each: { id: string }) => each.id)).toEqual([ids[0]]);
    expect(second.nextCursor).toBeNull();
  });
});
