import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, orderEscrowId, worldId } from '../../../ledger/rules/index.js';
import { LEDGER_PROJECTION } from '../../../ledger/projections/index.js';
import { ownTables } from '../../../src/db/own-tables.js';
import { createEscrow, ESCROW_REACTOR, STRANDED_GRACE_MS } from '../../../src/modules/payments/escrow.js';
import { MAGIC_NUMBERS } from '../../../src/modules/payments/simulators/index.js';
import type { PaymentTables } from '../../../src/modules/payments/tables.js';
import type { OrderPricing } from '../../../src/modules/payments/wallet-service.js';
import type { Database } from '../../../src/services.js';
import { createUser } from '../../helpers/auth.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { listeningPaymentsWorld } from './helpers.js';

/**
 * Money that reached an order's escrow without the order ever being placed: the wallet chain
 * landed but the capture was never appended (the order then failed or expired), or the escrow was
 * paid for an order stream that was never appended at all (stranded). Both go back to the wallet.
 */
let world: OrderWorld;

beforeAll(async () => {
  world = await listeningPaymentsWorld();
});
afterAll(async () => world?.testApp.close());

const services = () => world.testApp.services;
const escrow = () => services().payments.escrow;
const db = () => services().db;
const MINUTE = 60_000;
let funding = 0;

/** Funds a wallet straight from the outside world (a test shortcut for a Mobile Money top-up). */
async function fund(userId: string, amountMinor: bigint): Promise<void> {
  funding += 1;
  const [outcome] = await services().ledger.submit([
    {
      id: `test-fund:${userId}:${funding}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(userId, 'XAF'),
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  expect(outcome!.result).toBe('ok');
}

async function walletBalance(userId: string): Promise<bigint> {
  const account = await services().ledger.account(customerWalletId(userId, 'XAF'));
  return account === null ? 0n : account.creditsPosted - account.debitsPosted;
}

async function escrowBalance(orderId: string): Promise<bigint | null> {
  const account = await services().ledger.account(orderEscrowId(orderId, 'XAF'));
  return account === null ? null : account.creditsPosted - account.debitsPosted;
}

/** An order waiting for its Mobile Money payment (a number that never answers): PENDING_PAYMENT, escrow untouched. */
async function pendingOrder(token: string): Promise<{ orderId: string; pricing: OrderPricing }> {
  const placed = await placeOrder(world, token, {
    items: [{ itemId: world.jusId, quantity: 2 }],
    tipMinor: 100,
    payment: { kind: 'mobile_money', provider: 'MTN', phone: MAGIC_NUMBERS.MTN.pendingForever },
  });
  expect(placed.statusCode, placed.body).toBe(201);
  expect(placed.json().status).toBe('PENDING_PAYMENT');
  return { orderId: placed.json().id as string, pricing: placed.json().pricing as OrderPricing };
}

/** The wallet chain into the escrow, as placement runs it, without the capture being appended after it. */
async function payChain(userId: string, orderId: string, pricing: OrderPricing): Promise<void> {
  const paid = await services().payments.wallets.payOrder({ userId, orderId, currency: 'XAF', pricing });
  expect(paid).toEqual({ ok: true });
}

/** Resolves when the escrow reactor has handled this order's event of this type. */
function handled(orderId: string, type: string): Promise<void> {
  return new Promise((resolve) => {
    escrow().onHandled((event) => {
      if (event.stream === `order-${orderId}` && event.type === type) resolve();
    });
  });
}

/** The scheduled command the orders sweep runs once the payment deadline has passed. */
async function expire(orderId: string): Promise<void> {
  await services().orders.orders.execute(
    orderId,
    { type: 'ExpirePayment', data: { now: new Date(Date.now() + 16 * MINUTE) } },
    { actorRole: 'system' },
  );
}

/** Every ledger entry booked under this transfer id (from the projection, once it has caught up). */
async function entriesOf(transferId: string) {
  await services().projections.waitUntilCaughtUp(LEDGER_PROJECTION, 10_000);
  const rows = await sql<{
    account_id: string;
    side: string;
    amount_minor: string;
    code: string;
    user_data: Record<string, string> | null;
  }>`
    SELECT account_id, side, amount_minor::text AS amount_minor, code, user_data FROM ledger_entries WHERE transfer_id = ${transferId} ORDER BY account_id`.execute(
    db(),
  );
  return rows.rows;
}

async function auditsOf(action: string, orderId: string) {
  return db()
    .selectFrom('audit_logs')
    .select(['actor_kind', 'subject_user_id', 'resource', 'new_value'])
    .where('action', '=', action)
    .where('resource', '=', `order:${orderId}`)
    .execute();
}

describe('an order whose payment failed or expired, with money in its escrow anyway', () => {
  it('expired: the whole escrow goes back to the wallet, once, however often the reactor runs', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    const { orderId, pricing } = await pendingOrder(customer.accessToken);
    await payChain(customer.userId, orderId, pricing);
    expect(await walletBalance(customer.userId)).toBe(50_000n - BigInt(pricing.totalMinor));
    expect(await escrowBalance(orderId)).toBe(BigInt(pricing.totalMinor));

    const reacted = handled(orderId, 'OrderPaymentExpired');
    await expire(orderId);
    await reacted;
    expect((await services().orders.orders.load(orderId)).state.status).toBe('PAYMENT_EXPIRED');
    expect(await walletBalance(customer.userId)).toBe(50_000n);
    expect(await escrowBalance(orderId)).toBe(0n);
    expect(await escrow().escrowAvailable(orderId)).toBe(0n);
    const refund = await entriesOf(`refund-unplaced:${orderId}`);
    expect(refund).toEqual([
      {
        account_id: orderEscrowId(orderId, 'XAF'),
        side: 'debit',
        amount_minor: String(pricing.totalMinor),
        code: 'refund',
        user_data: { orderId, category: 'refunds' },
      },
      {
        account_id: customerWalletId(customer.userId, 'XAF'),
        side: 'credit',
        amount_minor: String(pricing.totalMinor),
        code: 'refund',
        user_data: { orderId, category: 'refunds' },
      },
    ]);

    // Again by hand, then the whole reactor replayed from the start: nothing moves twice.
    await escrow().refundUnplaced(orderId, 'OrderPaymentExpired');
    await escrow().stop();
    await db().deleteFrom('payments_reactor_checkpoints').where('name', '=', ESCROW_REACTOR).execute();
    const replayed = handled(orderId, 'OrderPaymentExpired');
    await escrow().start();
    await replayed;
    expect(await walletBalance(customer.userId)).toBe(50_000n);
    expect(await escrowBalance(orderId)).toBe(0n);
    expect(await entriesOf(`refund-unplaced:${orderId}`)).toHaveLength(2);

    const audits = await auditsOf('escrow.refund_unplaced', orderId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor_kind: 'system', subject_user_id: customer.userId });
    expect(audits[0]!.new_value).toEqual({
      transferId: `refund-unplaced:${orderId}`,
      escrowId: orderEscrowId(orderId, 'XAF'),
      walletId: customerWalletId(customer.userId, 'XAF'),
      amountMinor: pricing.totalMinor,
      currency: 'XAF',
      cause: 'OrderPaymentExpired',
    });
    const settlement = await db()
      .selectFrom('order_settlements')
      .selectAll()
      .where('order_id', '=', orderId)
      .executeTakeFirstOrThrow();
    expect(settlement).toMatchObject({
      outcome: 'refunded',
      refund_minor: BigInt(pricing.totalMinor),
      restaurant_share_minor: 0n,
    });
  });

  it('failed: the same refund follows OrderPaymentFailed', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 20_000n);
    const { orderId, pricing } = await pendingOrder(customer.accessToken);
    await payChain(customer.userId, orderId, pricing);
    const reacted = handled(orderId, 'OrderPaymentFailed');
    await services().orders.orders.recordPaymentOutcome(orderId, {
      status: 'failed',
      reason: 'mobile_money_failed',
    });
    await reacted;
    expect(await walletBalance(customer.userId)).toBe(20_000n);
    expect(await escrowBalance(orderId)).toBe(0n);
    expect(await entriesOf(`refund-unplaced:${orderId}`)).toHaveLength(2);
  });

  it('the normal case: an expired order with an empty escrow moves no money', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 10_000n);
    const { orderId } = await pendingOrder(customer.accessToken);
    const reacted = handled(orderId, 'OrderPaymentExpired');
    await expire(orderId);
    await reacted;
    expect(await walletBalance(customer.userId)).toBe(10_000n);
    expect(await services().ledger.account(orderEscrowId(orderId, 'XAF'))).toBeNull();
    expect(await entriesOf(`refund-unplaced:${orderId}`)).toEqual([]);
    expect(await auditsOf('escrow.refund_unplaced', orderId)).toEqual([]);
    expect(
      await db()
        .selectFrom('order_settlements')
        .select('order_id')
        .where('order_id', '=', orderId)
        .executeTakeFirst(),
    ).toBeUndefined();
  });
});

describe('stranded escrows: money for an order stream that was never appended', () => {
  it('the sweep is scheduled every 5 minutes beside the other payment jobs', () => {
    expect(services().jobs.schedules()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'escrow-stranded-sweep', cron: '*/5 * * * *' }),
      ]),
    );
  });

  it('refunded to the paying wallet after the grace period, once; escrows of existing orders untouched', async () => {
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 50_000n);
    // An order placed and paid from the wallet, and one paid by the wallet chain but still pending: both exist.
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
    });
    expect(placed.statusCode, placed.body).toBe(201);
    expect(placed.json().status).toBe('PLACED');
    const placedId = placed.json().id as string;
    const pending = await pendingOrder(customer.accessToken);
    await payChain(customer.userId, pending.orderId, pending.pricing);
    // The stranded one: the wallet chain for an order id whose stream never came.
    const strandedId = randomUUID();
    const pricing: OrderPricing = {
      subtotalMinor: 3_000,
      discountMinor: 0,
      deliveryFeeMinor: 500,
      taxMinor: 0,
      tipMinor: 100,
      totalMinor: 3_600,
    };
    await payChain(customer.userId, strandedId, pricing);
    const paidOut = BigInt(placed.json().pricing.totalMinor) + BigInt(pending.pricing.totalMinor);
    expect(await walletBalance(customer.userId)).toBe(50_000n - paidOut - 3_600n);
    await services().projections.waitUntilCaughtUp(LEDGER_PROJECTION, 10_000);

    // Within the grace period nothing moves, whatever the sweep's clock.
    expect(await escrow().sweepStranded(new Date())).toEqual({ refunded: 0, leftForFinance: 0, failed: 0 });
    expect(await escrow().sweepStranded(new Date(Date.now() + STRANDED_GRACE_MS - MINUTE))).toEqual({
      refunded: 0,
      leftForFinance: 0,
      failed: 0,
    });
    expect(await escrowBalance(strandedId)).toBe(3_600n);

    // Past it: the whole balance back to the wallet that paid it.
    const later = () => new Date(Date.now() + STRANDED_GRACE_MS + MINUTE);
    expect(await escrow().sweepStranded(later())).toEqual({ refunded: 1, leftForFinance: 0, failed: 0 });
    expect(await escrowBalance(strandedId)).toBe(0n);
    expect(await walletBalance(customer.userId)).toBe(50_000n - paidOut);
    // At once (the projection may still show the money: the writer says no) and once caught up.
    expect(await escrow().sweepStranded(later())).toMatchObject({ refunded: 0, failed: 0 });
    await services().projections.waitUntilCaughtUp(LEDGER_PROJECTION, 10_000);
    expect(await escrow().sweepStranded(later())).toEqual({ refunded: 0, leftForFinance: 0, failed: 0 });
    expect(await walletBalance(customer.userId)).toBe(50_000n - paidOut);
    expect(await entriesOf(`refund-stranded:${strandedId}`)).toEqual([
      {
        account_id: orderEscrowId(strandedId, 'XAF'),
        side: 'debit',
        amount_minor: '3600',
        code: 'refund',
        user_data: { orderId: strandedId, category: 'refunds' },
      },
      {
        account_id: customerWalletId(customer.userId, 'XAF'),
        side: 'credit',
        amount_minor: '3600',
        code: 'refund',
        user_data: { orderId: strandedId, category: 'refunds' },
      },
    ]);

    // The existing orders' escrows still hold their money.
    expect(await escrowBalance(placedId)).toBe(BigInt(placed.json().pricing.totalMinor));
    expect(await escrowBalance(pending.orderId)).toBe(BigInt(pending.pricing.totalMinor));

    const audits = await auditsOf('escrow.refund_stranded', strandedId);
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ actor_kind: 'system', subject_user_id: customer.userId });
    expect(audits[0]!.new_value).toMatchObject({
      transferId: `refund-stranded:${strandedId}`,
      walletId: customerWalletId(customer.userId, 'XAF'),
      amountMinor: 3_600,
      currency: 'XAF',
    });
  });

  it('with the events in EventStoreDB (no stream table), the sweep tells orders apart by the orders projection', async () => {
    // The same PostgreSQL store, reporting itself as EventStoreDB: the query's prefilter changes,
    // the event-store port still answers the final check.
    const store = services().eventStore;
    const asked: string[] = [];
    const esdbLike = Object.create(store, {
      kind: { value: 'eventstoredb' },
      readStream: {
        value: (stream: string, options?: Parameters<typeof store.readStream>[1]) => {
          asked.push(stream);
          return store.readStream(stream, options);
        },
      },
    }) as typeof store;
    const sweeper = createEscrow({
      db: ownTables<PaymentTables, Database>(db()),
      eventStore: esdbLike,
      ledger: services().ledger,
      logger: services().runtime.logger,
      orders: () => services().orders.orders,
    });
    const customer = await createUser(world.testApp, { roles: ['customer'] });
    await fund(customer.userId, 20_000n);
    const placed = await placeOrder(world, customer.accessToken, {
      items: [{ itemId: world.jusId, quantity: 1 }],
      tipMinor: 0,
    });
    expect(placed.json().status).toBe('PLACED');
    const strandedId = randomUUID();
    const pricing: OrderPricing = {
      subtotalMinor: 1_000,
      discountMinor: 0,
      deliveryFeeMinor: 500,
      taxMinor: 0,
      tipMinor: 0,
      totalMinor: 1_500,
    };
    await payChain(customer.userId, strandedId, pricing);
    await services().projections.waitUntilCaughtUp(LEDGER_PROJECTION, 10_000);
    await services().projections.waitUntilCaughtUp('orders', 10_000);

    const swept = await sweeper.sweepStranded(new Date(Date.now() + STRANDED_GRACE_MS + MINUTE));
    expect(swept).toMatchObject({ refunded: 1, failed: 0 });
    expect(await escrowBalance(strandedId)).toBe(0n);
    expect(await escrowBalance(placed.json().id)).toBe(BigInt(placed.json().pricing.totalMinor));
    // The projection kept the placed order out of the candidates: only the stranded one was asked.
    expect(asked).toContain(`order-${strandedId}`);
    expect(asked).not.toContain(`order-${placed.json().id}`);
  });

  it('an escrow not paid by a customer wallet is left for finance, untouched', async () => {
    const strandedId = randomUUID();
    const [outcome] = await services().ledger.submit([
      {
        id: `test-misbooked:${strandedId}`,
        debitAccountId: worldId('XAF'),
        creditAccountId: orderEscrowId(strandedId, 'XAF'),
        amountMinor: 1_234n,
        currency: 'XAF',
        code: 'adjustment',
        flags: {},
      },
    ]);
    expect(outcome!.result).toBe('ok');
    await services().projections.waitUntilCaughtUp(LEDGER_PROJECTION, 10_000);
    const swept = await escrow().sweepStranded(new Date(Date.now() + STRANDED_GRACE_MS + MINUTE));
    expect(swept).toMatchObject({ refunded: 0, leftForFinance: 1, failed: 0 });
    expect(await escrowBalance(strandedId)).toBe(1_234n);
    expect(await entriesOf(`refund-stranded:${strandedId}`)).toEqual([]);
  });
});
