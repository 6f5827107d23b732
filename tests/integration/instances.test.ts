import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { customerWalletId, worldId } from '../../ledger/rules/index.js';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createUser, type CreatedUser } from '../helpers/auth.js';
import { orderWorld, placeOrder, type OrderWorld } from './orders/helpers.js';

/**
 * Three app instances on one database and one Redis prefix (docs/deployment.md, "Several
 * instances"): A is the one orderWorld built (it holds the ledger writer's lease), B and C listen
 * on ports of their own. A message published on one instance reaches sockets on the two others;
 * the order sweep run by all three at once and the escrow reactor running in all three have each
 * of their effects once.
 */
let world: OrderWorld;
/** Places test one's order, so the sweep test's refunds are all its own customer's. */
let listener: CreatedUser;
let others: TestApp[] = [];
const urls: string[] = [];

const shared = {
  REDIS_KEY_PREFIX: `mi${randomBytes(3).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
  ORDERS_PAYMENT_PORT: 'ledger',
};

beforeAll(async () => {
  world = await orderWorld(shared);
  urls.push((await world.testApp.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws'));
  for (let index = 0; index < 2; index += 1) {
    const instance = await createTestApp({
      database: world.testApp.database,
      keepDatabase: true,
      env: { MAX_EVENT_LOOP_DELAY_MS: '0', ...shared },
    });
    others.push(instance);
    urls.push((await instance.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws'));
  }
  listener = await createUser(world.testApp, { roles: ['customer'] });
  const outcomes = await world.testApp.services.ledger.submit(
    [world.actors.customer, listener].map((customer) => ({
      id: `instances:fund:${customer.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(customer.userId, 'XAF'),
      amountMinor: 500_000n,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    })),
  );
  expect(outcomes.map((outcome) => outcome.result)).toEqual(['ok', 'ok']);
}, 120_000);

afterAll(async () => {
  for (const instance of others) await instance.close();
  others = [];
  await world?.testApp.close();
});

interface Socket {
  messages: Record<string, unknown>[];
  next(predicate: (message: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  close(): void;
}

async function connect(base: string, path: string, token: string): Promise<Socket> {
  const socket = new WebSocket(`${base}${path}?${new URLSearchParams({ access_token: token })}`);
  const messages: Record<string, unknown>[] = [];
  socket.on('message', (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('open', () => resolve());
  });
  const next = async (predicate: (message: Record<string, unknown>) => boolean) => {
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline) {
      const found = messages.find(predicate);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error(`no matching message; got ${JSON.stringify(messages)}`);
  };
  await next((message) => message.type === 'ready');
  return { messages, next, close: () => socket.close() };
}

describe('three instances on one database and Redis', () => {
  it('a message published on one instance reaches subscribers connected to the other two', async () => {
    const [, onB, onC] = urls as [string, string, string];
    const customerToken = listener.accessToken;
    const onBCustomer = await connect(onB, '/ws/customer', customerToken);
    const onCCustomer = await connect(onC, '/ws/customer', customerToken);
    const onCRestaurant = await connect(onC, '/ws/restaurant', world.actors.owner.accessToken);
    try {
      // An order placed (and paid from the wallet) on A.
      const placed = await placeOrder(world, customerToken);
      expect(placed.statusCode).toBe(201);
      const orderId = placed.json().id as string;
      const captured = (message: Record<string, unknown>) =>
        message.orderId === orderId && message.type === 'OrderPaymentCaptured';
      const [b, c, restaurant] = await Promise.all([
        onBCustomer.next(captured),
        onCCustomer.next(captured),
        onCRestaurant.next(captured),
      ]);
      // One message (one id in the audience's stream), delivered by both instances.
      expect(b.id).toBe(c.id);
      expect(restaurant.channel).toBe('new-orders');

      // And a message published through C's bus reaches the socket on B (and A's own socket).
      const onA = await connect(urls[0]!, '/ws/customer', customerToken);
      try {
        await others[1]!.services.realtime.bus.publish([
          {
            audiences: [`user:${listener.userId}`],
            message: {
              channel: 'order-updates',
              type: 'Ping',
              at: new Date().toISOString(),
              data: { from: 'C' },
            },
          },
        ]);
        const ping = (message: Record<string, unknown>) => message.type === 'Ping';
        const [fromB, fromA] = await Promise.all([onBCustomer.next(ping), onA.next(ping)]);
        expect(fromB.data).toEqual({ from: 'C' });
        expect(fromA.id).toBe(fromB.id);
      } finally {
        onA.close();
      }
    } finally {
      onBCustomer.close();
      onCCustomer.close();
      onCRestaurant.close();
    }
  });

  it('the order sweep run by all three at once, and the escrow reactor running in all three, take effect once', async () => {
    const customer = world.actors.customer;
    const wallet = customerWalletId(customer.userId, 'XAF');
    const ledger = world.testApp.services.ledger;
    const before = (await ledger.account(wallet))!.availableMinor;
    const orders: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const placed = await placeOrder(world, customer.accessToken);
      expect(placed.statusCode).toBe(201);
      expect(placed.json().status).toBe('PLACED');
      orders.push(placed.json().id as string);
    }
    const paid = (await ledger.account(wallet))!.availableMinor;
    expect(paid).toBeLessThan(before);
    // The sweeps find due orders in the orders read model: wait until it has all four.
    const db = world.testApp.services.db;
    const projected = async () =>
      (
        await db
          .selectFrom('orders_view')
          .select('order_id')
          .where('order_id', 'in', orders)
          .where('status', '=', 'PLACED')
          .execute()
      ).length;
    const seen = Date.now() + 10_000;
    while ((await projected()) < orders.length && Date.now() < seen)
      await new Promise((r) => setTimeout(r, 50));
    expect(await projected()).toBe(orders.length);
    const placedBefore = await db
      .selectFrom('orders_view')
      .select('order_id')
      .where('status', '=', 'PLACED')
      .execute();

    // Every instance's sweep finds the four unanswered orders due, at the same moment.
    const later = new Date(Date.now() + 24 * 60 * 60_000);
    const counts = await Promise.all(
      [world.testApp, ...others].map((instance) => instance.services.orders.orders.sweep(later)),
    );
    // Each due order rejected by exactly one instance (the others' appends lost the race and were refused).
    expect(counts.reduce((sum, count) => sum + count.rejected, 0)).toBe(placedBefore.length);
    for (const { order_id: orderId } of placedBefore) {
      const events = await world.testApp.services.eventStore.readStream(`order-${orderId}`);
      expect(events.filter((event) => event.type === 'OrderRejected')).toHaveLength(1);
    }

    // Each instance's escrow reactor sees each rejection: the customer is refunded once, to the franc.
    const deadline = Date.now() + 20_000;
    let balance = paid;
    while (Date.now() < deadline) {
      balance = (await others[0]!.services.ledger.account(wallet))!.availableMinor;
      if (balance >= before) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(balance).toBe(before);
    // Still so a moment later (a late second refund would show).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await others[1]!.services.ledger.account(wallet))!.availableMinor).toBe(before);
    const report = await ledger.verify();
    expect(report.mismatches ?? []).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('/metrics says which instance holds the ledger lease and what the others forwarded', async () => {
    // A standby reads a balance: forwarded to the holder.
    await others[0]!.services.ledger.account(customerWalletId(listener.userId, 'XAF'));
    const scrape = async (instance: TestApp) =>
      (await instance.app.inject({ method: 'GET', url: '/metrics' })).body;
    const [a, b, c] = await Promise.all([world.testApp, ...others].map(scrape));
    expect(a!).toMatch(/^ledger_writer_ready 1$/m);
    expect(b!).toMatch(/^ledger_writer_ready 0$/m);
    expect(c!).toMatch(/^ledger_writer_ready 0$/m);
    expect(Number(/^ledger_relay_calls\{kind="forwarded"\} (\d+)$/m.exec(b!)?.[1])).toBeGreaterThan(0);
    expect(Number(/^ledger_relay_calls\{kind="served"\} (\d+)$/m.exec(a!)?.[1])).toBeGreaterThan(0);
  });
});
