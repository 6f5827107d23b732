/**
 * Notifications benchmark → bench/results/notifications.json (issue #19).
 *
 * Intents per second from order events to the recording transport, and the latency from the
 * order event to the restaurant's push, with Redis and BullMQ (the test app's REDIS_URL):
 *   1. orders are placed over the app (wallet, the test payment port): OrderCreated and
 *      OrderPaymentCaptured appended;
 *   2. the intent reactor turns each capture into two intents (the customer's `order.placed`,
 *      the restaurant's `restaurant.new_order`), the dispatch queue picks the channels, the push
 *      and SMS queues send through the recording outbox;
 *   3. measured: intents recorded and sent per second over the whole run, and per order the time
 *      from the capture event to the push's send (p50, p95, p99).
 * The hourly cap is lifted (one customer, many orders) and the acknowledgement SMS deferred past
 * the run, so the figure is the pipeline's, not the cap's.
 *
 *   npx tsx bench/notifications/run.ts   (or: npm run bench:notifications)   ORDERS=2000 CONCURRENCY=16
 *   SMOKE=1 runs 40 orders and prints instead of writing the result file.
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import os from 'node:os';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { orderWorld, placeOrder } from '../../tests/integration/orders/helpers.js';

const SMOKE = process.env.SMOKE === '1';
const ORDERS = Number(process.env.ORDERS ?? (SMOKE ? 40 : 2_000));
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 10 * 60_000);
const OWNER_TOKEN = 'bench-owner-device-token-0123456789';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}

const loadAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
const world = await orderWorld({
  LOG_LEVEL: 'warn',
  NOTIFY_HOURLY_CAP: '1000000',
  NOTIFY_ACK_TIMEOUT_SECONDS: '86400',
});
const { services } = world.testApp;
try {
  await services.notify.repository.registerDevice(
    world.actors.owner.userId,
    OWNER_TOKEN,
    'android',
    new Date(),
  );
  const items = [{ itemId: world.jusId, quantity: 1 }]; // no tracked stock: any number of orders

  const started = Date.now();
  let next = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ORDERS) {
        next += 1;
        const placed = await placeOrder(world, world.actors.customer.accessToken, { items });
        if (placed.statusCode !== 201) failures.push(`${placed.statusCode} ${placed.body.slice(0, 120)}`);
      }
    }),
  );
  const placedMs = Date.now() - started;
  const expected = (ORDERS - failures.length) * 2;

  // Wait until every intent was sent (or the deadline).
  let sent = 0;
  while (Date.now() - started < DEADLINE_MS) {
    const row = await services.db
      .selectFrom('notification_deliveries')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('status', '=', 'sent')
      .executeTakeFirstOrThrow();
    sent = Number(row.count);
    if (sent >= expected) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const doneMs = Date.now() - started;

  // Per order: the capture event's time → the restaurant's push sent.
  const latencies = await services.db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_intents as i', 'i.id', 'd.intent_id')
    .select(['i.source_event_id', 'd.updated_at'])
    .where('i.kind', '=', 'restaurant.new_order')
    .where('d.channel', '=', 'push')
    .where('d.status', '=', 'sent')
    .execute();
  const eventTimes = new Map<string, number>();
  const stored = await services.db
    .selectFrom('eventstore_events')
    .select(['event_id', 'created_at'])
    .where('type', '=', 'OrderPaymentCaptured')
    .execute();
  for (const row of stored) eventTimes.set(row.event_id, row.created_at.getTime());
  const pushMs = latencies
    .map((row) => {
      const at = eventTimes.get(row.source_event_id);
      return at === undefined ? undefined : row.updated_at.getTime() - at;
    })
    .filter((value): value is number => value !== undefined);

  const result = {
    benchmark: 'notifications',
    revision: gitRevision(),
    machine: await describeMachine(),
    loadAtStart,
    queue: services.jobs.queue.kind,
    parameters: { orders: ORDERS, concurrency: CONCURRENCY },
    orders: { placed: ORDERS - failures.length, failed: failures.length, placedSeconds: placedMs / 1_000 },
    intents: {
      expected,
      sent,
      perSecond: Math.round((sent / (doneMs / 1_000)) * 10) / 10,
      seconds: doneMs / 1_000,
    },
    eventToPushMs: {
      samples: pushMs.length,
      p50: percentile(pushMs, 50),
      p95: percentile(pushMs, 95),
      p99: percentile(pushMs, 99),
      max: percentile(pushMs, 100),
    },
    ...(failures.length === 0 ? {} : { firstFailures: failures.slice(0, 5) }),
  };
  if (SMOKE) console.log(JSON.stringify(result, null, 2));
  else console.log(`wrote ${writeResult('notifications', result)}`);
} finally {
  await world.testApp.close();
}
