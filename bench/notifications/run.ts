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
 *   3. measured per phase: intents sent per second, and per order the time from the capture
 *      event to the push's send (p50, p95, p99), split into its stages: event → intent recorded
 *      (the reactor), intent → send claimed (the dispatch and push queues), claim → sent (the send).
 *
 * Two phases, one after the other on the same app:
 *   - burst: ORDERS placed as fast as CONCURRENCY clients can (capacity; the latency there is
 *     mostly the backlog the burst leaves in the queues);
 *   - paced: PACED_RATE orders per second for PACED_SECONDS (default: half the capacity the
 *     burst measured, so below it whatever the machine's load; the latency a sustainable rate
 *     sees).
 * The hourly cap is lifted (one customer, many orders) and the acknowledgement SMS deferred past
 * the run, so the figure is the pipeline's, not the cap's.
 *
 *   npx tsx bench/notifications/run.ts   (or: npm run bench:notifications)
 *   ORDERS=2000 CONCURRENCY=16 PACED_RATE=50 PACED_SECONDS=20 NOTIFY_QUEUE_CONCURRENCY=16
 *   SMOKE=1 runs 40 orders and 5 s paced and prints instead of writing the result file.
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import os from 'node:os';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { orderWorld, placeOrder } from '../../tests/integration/orders/helpers.js';

const SMOKE = process.env.SMOKE === '1';
const ORDERS = Number(process.env.ORDERS ?? (SMOKE ? 40 : 2_000));
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 16);
/** Orders per second in the paced phase; unset: half the burst's measured capacity (2 intents an order). */
const PACED_RATE_SET = process.env.PACED_RATE === undefined ? undefined : Number(process.env.PACED_RATE);
const PACED_SECONDS = Number(process.env.PACED_SECONDS ?? (SMOKE ? 5 : 20));
const QUEUE_CONCURRENCY = process.env.NOTIFY_QUEUE_CONCURRENCY ?? '16';
const DEADLINE_MS = Number(process.env.DEADLINE_MS ?? 10 * 60_000);
const OWNER_TOKEN = 'bench-owner-device-token-0123456789';

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0);
}
const spread = (values: number[]) => ({
  p50: percentile(values, 50),
  p95: percentile(values, 95),
  p99: percentile(values, 99),
  max: percentile(values, 100),
});
const load = () => os.loadavg().map((value) => Math.round(value * 100) / 100);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const world = await orderWorld({
  LOG_LEVEL: 'warn',
  NOTIFY_HOURLY_CAP: '1000000',
  NOTIFY_ACK_TIMEOUT_SECONDS: '86400',
  NOTIFY_QUEUE_CONCURRENCY: QUEUE_CONCURRENCY,
});
const { services } = world.testApp;
const items = [{ itemId: world.jusId, quantity: 1 }]; // no tracked stock: any number of orders

async function place(failures: string[]): Promise<void> {
  const placed = await placeOrder(world, world.actors.customer.accessToken, { items });
  if (placed.statusCode !== 201) failures.push(`${placed.statusCode} ${placed.body.slice(0, 120)}`);
}

/** Intents of the phase sent on at least one channel. */
async function sentSince(since: Date): Promise<number> {
  const row = await services.db
    .selectFrom('notification_intents')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('status', '=', 'delivered')
    .where('created_at', '>=', since)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** Waits until the phase's intents are sent, then measures them. */
async function measure(phase: { since: Date; startedMs: number; placed: number }) {
  const expected = phase.placed * 2;
  let sent = 0;
  while (Date.now() - phase.startedMs < DEADLINE_MS) {
    sent = await sentSince(phase.since);
    if (sent >= expected) break;
    await sleep(100);
  }
  const doneMs = Date.now() - phase.startedMs;
  // Per order: the capture event → the intent → the push claimed → the push sent.
  const rows = await services.db
    .selectFrom('notification_deliveries as d')
    .innerJoin('notification_intents as i', 'i.id', 'd.intent_id')
    .select(['i.source_event_id', 'i.created_at as intent_at', 'd.claimed_at', 'd.updated_at'])
    .where('i.kind', '=', 'restaurant.new_order')
    .where('d.channel', '=', 'push')
    .where('d.status', '=', 'sent')
    .where('d.claimed_at', '>=', phase.since)
    .execute();
  const stored = await services.db
    .selectFrom('eventstore_events')
    .select(['event_id', 'created_at'])
    .where('type', '=', 'OrderPaymentCaptured')
    .where('created_at', '>=', phase.since)
    .execute();
  const eventTimes = new Map(stored.map((row) => [row.event_id, row.created_at.getTime()]));
  const total: number[] = [];
  const reactor: number[] = [];
  const queues: number[] = [];
  const sending: number[] = [];
  for (const row of rows) {
    const at = eventTimes.get(row.source_event_id);
    if (at === undefined) continue;
    total.push(row.updated_at.getTime() - at);
    reactor.push(row.intent_at.getTime() - at);
    queues.push(row.claimed_at.getTime() - row.intent_at.getTime());
    sending.push(row.updated_at.getTime() - row.claimed_at.getTime());
  }
  return {
    intents: {
      expected,
      sent,
      perSecond: Math.round((sent / (doneMs / 1_000)) * 10) / 10,
      seconds: doneMs / 1_000,
    },
    eventToPushMs: { samples: total.length, ...spread(total) },
    stagesMs: {
      eventToIntent: spread(reactor),
      intentToClaim: spread(queues),
      claimToSent: spread(sending),
    },
    loadAfter: load(),
  };
}

async function burst() {
  const since = new Date();
  const loadBefore = load();
  const startedMs = Date.now();
  let next = 0;
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < ORDERS) {
        next += 1;
        await place(failures);
      }
    }),
  );
  const placedSeconds = (Date.now() - startedMs) / 1_000;
  const placed = ORDERS - failures.length;
  return {
    loadBefore,
    orders: { placed, failed: failures.length, placedSeconds },
    ...(await measure({ since, startedMs, placed })),
    ...(failures.length === 0 ? {} : { firstFailures: failures.slice(0, 5) }),
  };
}

/** Orders at a fixed rate, each placed on its tick whatever the others are doing. */
async function paced(rate: number) {
  const since = new Date();
  const loadBefore = load();
  const total = Math.round(rate * PACED_SECONDS);
  const failures: string[] = [];
  const startedMs = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const wait = startedMs + (index * 1_000) / rate - Date.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(place(failures));
  }
  await Promise.all(inFlight);
  const placedSeconds = (Date.now() - startedMs) / 1_000;
  const placed = total - failures.length;
  return {
    loadBefore,
    orders: {
      placed,
      failed: failures.length,
      placedSeconds,
      achievedPerSecond: Math.round((total / placedSeconds) * 10) / 10,
    },
    ...(await measure({ since, startedMs, placed })),
    ...(failures.length === 0 ? {} : { firstFailures: failures.slice(0, 5) }),
  };
}

try {
  await services.notify.repository.registerDevice(
    world.actors.owner.userId,
    OWNER_TOKEN,
    'android',
    new Date(),
  );
  const loadAtStart = load();
  const burstResult = await burst();
  await sleep(2_000); // the burst's tail (e-mails, the centre's publications) settles
  // Below capacity: half of what the burst sustained, unless PACED_RATE says otherwise.
  const pacedRate =
    PACED_RATE_SET ?? Math.max(1, Math.floor((burstResult.intents.perSecond / 2) * 0.5 * 10) / 10);
  const pacedResult = await paced(pacedRate);
  const result = {
    benchmark: 'notifications',
    revision: gitRevision(),
    machine: await describeMachine(),
    loadAtStart,
    queue: services.jobs.queue.kind,
    parameters: {
      orders: ORDERS,
      concurrency: CONCURRENCY,
      pacedRate: PACED_RATE_SET ?? 'half the burst capacity',
      pacedSeconds: PACED_SECONDS,
      notifyQueueConcurrency: Number(QUEUE_CONCURRENCY),
    },
    burst: burstResult,
    paced: { ratePerSecond: pacedRate, ...pacedResult },
  };
  if (SMOKE) console.log(JSON.stringify(result, null, 2));
  else console.log(`wrote ${writeResult('notifications', result)}`);
} finally {
  await world.testApp.close();
}
