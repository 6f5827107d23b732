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
 *   - the ranking alone (service call), the same way;
 *   - GET /v1/recommendations over HTTP under autocannon (its own process, exact percentiles from
 *     every response), signed in and as a guest, one connection (a request at a time: its latency
 *     is the route's) then CONNECTIONS at once (throughput); meanwhile the handler's own time in the
 *     server (fastify's `fastify.request.handler` tracing channel: from the handler's start to its
 *     reply sent, so not the time a request waits for the event loop or the network) and the
 *     machine's load average, which says how much of the figures is other processes' CPU.
 *
 *   npx tsx bench/recommendations/run.ts   REQUESTS=2000 DURATION=15 CONNECTIONS=10
 *   (SMOKE=1: 200 requests and 3 s runs, prints only; CPU_PROFILE=<dir>: a profile of the measured phases)
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { startBenchApp } from '../lib/app.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';
import { startProfile } from '../lib/profile.js';
import { insertCatalogFixture } from '../../src/modules/catalog/fixtures.js';
import { generateHistory } from '../../ml/src/generate.js';

const SMOKE = process.env.SMOKE === '1';
const REQUESTS = Number(process.env.REQUESTS ?? (SMOKE ? 200 : 2_000));
const TOKENS = 200;
const DURATION = Number(process.env.DURATION ?? (SMOKE ? 3 : 15));
const CONNECTIONS = Number(process.env.CONNECTIONS ?? 10);
const here = path.dirname(fileURLToPath(import.meta.url));

interface Measured {
  requestsPerSecond: number;
  responses: number;
  latency: { p50: number; p90: number; p95: number; p97_5: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  connections: number;
  durationSeconds: number;
}

/** autocannon in a process of its own (bench/lib/autocannon-process.cjs) against `url`. */
function autocannon(url: string, mode: 'signed-in' | 'guest', connections: number, fixture: string) {
  const child = fork(path.join(here, '../lib/autocannon-process.cjs'), [], {
    env: { ...process.env, RECOMMENDATIONS_BENCH_FIXTURE: fixture, RECOMMENDATIONS_BENCH_MODE: mode },
  });
  return new Promise<Measured>((resolve, reject) => {
    child.once('message', (message) => {
      child.kill();
      resolve(message as Measured);
    });
    child.once('exit', (code) => reject(new Error(`the load process exited (${code})`)));
    child.send({
      url,
      connections,
      duration: DURATION,
      setupRequest: path.join(here, 'setup-request.cjs'),
    });
  });
}

/**
 * The handler's own time of GET /v1/recommendations, from fastify's tracing channel: `start` when
 * the handler is called (after routing, auth and validation), `asyncEnd` once its reply is sent.
 */
function handlerTimes() {
  const channel = diagnostics.tracingChannel('fastify.request.handler');
  const started = new WeakMap<object, number>();
  let samples: number[] = [];
  const handlers = {
    start(store: unknown) {
      started.set(store as object, performance.now());
    },
    end() {},
    asyncStart() {},
    asyncEnd(store: unknown) {
      const { route } = store as { route?: { url?: string } };
      const at = started.get(store as object);
      if (at !== undefined && route?.url === '/v1/recommendations') samples.push(performance.now() - at);
    },
    error() {},
  };
  channel.subscribe(handlers);
  return {
    take() {
      const taken = samples;
      samples = [];
      return taken;
    },
    close: () => channel.unsubscribe(handlers),
  };
}

const load = () => os.loadavg().map((value) => Math.round(value * 100) / 100);

function percentiles(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) =>
    Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!.toFixed(3));
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
}

const loadAtStart = load();
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
  const profile = await startProfile('recommendations');
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
  const loadAtInjectEnd = load();

  // Over HTTP under autocannon: a request at a time, then CONNECTIONS at once.
  const directory = mkdtempSync(path.join(os.tmpdir(), 'reco-bench-'));
  const fixture = path.join(directory, 'fixture.json');
  writeFileSync(
    fixture,
    JSON.stringify({ tokens, places: Array.from({ length: 4_000 }, (_, index) => place(index)) }),
  );
  const handler = handlerTimes();
  const http: Record<string, unknown> = {};
  try {
    for (const [mode, connections] of [
      ['signed-in', 1],
      ['guest', 1],
      ['signed-in', CONNECTIONS],
      ['guest', CONNECTIONS],
    ] as const) {
      handler.take();
      const loadBefore = load();
      const measured = await autocannon(bench.url, mode, connections, fixture);
      if (measured.errors > 0 || measured.non2xx > 0)
        throw new Error(`${mode}: ${measured.errors} errors, ${measured.non2xx} non-2xx answers`);
      http[`${mode}-${connections}`] = {
        ...measured,
        handlerMs: percentiles(handler.take()),
        loadAverage: { before: loadBefore, after: load() },
      };
    }
  } finally {
    handler.close();
    rmSync(directory, { recursive: true, force: true });
  }
  await profile?.stop();

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
    loadAtInjectEnd,
    autocannon: http,
    note: 'latencyMs: sequential app.inject on one process; autocannon: HTTP on loopback from another process on the same 2 cores (latency in ms, its own 1 ms resolution), handlerMs: the handler in the server; candidates: dishes within 25 km (one city, 720 or 480)',
  };
  if (SMOKE) console.log(JSON.stringify(result, null, 2));
  else console.log(`wrote ${writeResult('recommendations', result)}`);
} finally {
  await bench.close();
}
