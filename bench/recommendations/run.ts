/**
 * Recommendations benchmark → bench/results/recommendations.json (issue #24).
 *
 * The synthetic history of ml/ (66k orders, 4,000 customers, 40 restaurants and 1,200 dishes of
 * the demo catalog's fixture) on a fresh database: the restaurants through the catalog fixture, the
 * orders written straight into the recommendations read model (`reco_orders`, as its projection
 * would; the event path is tested in tests/integration/recommendations). Then, measured:
 *   - the first fold of the history into memory (start-up cost);
 *   - GET /v1/recommendations through the app (inject: routing, auth, validation, features, ONNX,
 *     serialisation), one request at a time, for signed-in customers with history and for guests
 *     with a place: p50/p95/p99;
 *   - the ranking alone (service call), the same way.
 *
 *   npx tsx bench/recommendations/run.ts   REQUESTS=2000   (SMOKE=1: 200 requests, prints only)
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { sql } from 'kysely';
import { startBenchApp } from '../lib/app.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { insertCatalogFixture } from '../../src/modules/catalog/fixtures.js';
import { generateHistory } from '../../ml/src/generate.js';

const SMOKE = process.env.SMOKE === '1';
const REQUESTS = Number(process.env.REQUESTS ?? (SMOKE ? 200 : 2_000));
const TOKENS = 200;

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(3));
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

const loadAtStart = os.loadavg().map((value) => Math.round(value * 100) / 100);
const history = generateHistory();
const bench = await startBenchApp({ RATE_LIMIT_ENABLED: 'false' });
try {
  const { db, identity, recommendations } = bench.services;
  await insertCatalogFixture(db, history.restaurants);
  const customerIds = new Map<string, string>();
  const idOf = (synthetic: string) => {
    let id = customerIds.get(synthetic);
    if (id === undefined) customerIds.set(synthetic, (id = randomUUID()));
    return id;
  };
  for (let start = 0; start < history.orders.length; start += 1_000) {
    const batch = history.orders.slice(start, start + 1_000);
    // The history ends in August 2026; shift it to end now, so popularity has not decayed away.
    const shift = Date.now() - history.orders[history.orders.length - 1]!.at;
    await db
      .insertInto('reco_orders')
      .values(
        batch.map((order) => ({
          order_id: randomUUID(),
          customer_id: idOf(order.customerId),
          restaurant_id: order.restaurantId,
          lines: JSON.stringify(order.lines),
          cell: order.cell,
          created_at: new Date(order.at + shift),
          placed_at: new Date(order.at + shift),
        })),
      )
      .execute();
  }
  const foldStarted = performance.now();
  await recommendations.refresh();
  const foldMs = performance.now() - foldStarted;
  const status = recommendations.status();
  if (!status.model.loaded) throw new Error(`no model: ${status.model.error}`);

  const customers = [...customerIds.values()].slice(0, TOKENS);
  const tokens: string[] = [];
  for (const userId of customers) {
    const issued = await identity.tokens.issue({
      userId,
      sessionId: randomUUID(),
      kind: 'user',
      roles: ['customer'],
      twoFactorVerified: false,
    });
    tokens.push(issued.token);
  }
  const place = (index: number) => {
    const order = history.orders[(index * 7919) % history.orders.length]!;
    return order.location;
  };

  // Warm-up: JIT and the ONNX session's first runs.
  for (let index = 0; index < 50; index += 1) {
    await bench.app.inject({ method: 'GET', url: `/v1/recommendations?lat=4.05&lng=9.76` });
  }
  const customerMs: number[] = [];
  const guestMs: number[] = [];
  const rankMs: number[] = [];
  const sources = new Set<string>();
  for (let index = 0; index < REQUESTS; index += 1) {
    const where = place(index);
    let started = performance.now();
    const signedIn = await bench.app.inject({
      method: 'GET',
      url: `/v1/recommendations?lat=${where.latitude}&lng=${where.longitude}`,
      headers: { authorization: `Bearer ${tokens[index % tokens.length]}` },
    });
    customerMs.push(performance.now() - started);
    if (signedIn.statusCode !== 200) throw new Error(`signed-in request failed: ${signedIn.body}`);
    sources.add(signedIn.json().source);
    started = performance.now();
    const guest = await bench.app.inject({
      method: 'GET',
      url: `/v1/recommendations?lat=${where.latitude}&lng=${where.longitude}`,
    });
    guestMs.push(performance.now() - started);
    if (guest.statusCode !== 200) throw new Error(`guest request failed: ${guest.body}`);
    started = performance.now();
    await recommendations.recommend({
      customerId: customers[index % customers.length]!,
      location: where,
      weather: null,
      limit: 10,
      at: new Date(),
    });
    rankMs.push(performance.now() - started);
  }
  const machine = await describeMachine(async () => {
    const row = await sql<{ version: string }>`select version()`.execute(db);
    return row.rows[0]!.version;
  });
  const result = {
    name: 'recommendations',
    revision: gitRevision(),
    at: new Date().toISOString(),
    machine,
    loadAtStart,
    history: { orders: history.orders.length, customers: customerIds.size, dishes: status.dishes },
    model: status.model.version,
    sources: [...sources],
    firstFoldMs: Number(foldMs.toFixed(1)),
    latencyMs: {
      signedIn: percentiles(customerMs),
      guest: percentiles(guestMs),
      rankingOnly: percentiles(rankMs),
    },
    note: 'sequential app.inject on one process; candidates: dishes within 25 km (one city, 720 or 480)',
  };
  if (SMOKE) console.log(JSON.stringify(result, null, 2));
  else console.log(`wrote ${writeResult('recommendations', result)}`);
} finally {
  await bench.close();
}
