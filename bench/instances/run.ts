/**
 * Several instances benchmark → bench/results/instances.json.
 *
 * Wallet-paid orders per second (POST /v1/orders, paid from the customer's wallet through the
 * ledger) with 1, 2 and 3 app processes (`src/server.ts`, as production runs it) on one database
 * and Redis. The load generator (autocannon, in a process of its own) spreads its connections
 * over the instances' URLs, as a load balancer would; with more than one instance, all but the
 * lease holder forward their ledger calls through the relay (docs/ledger.md). Each app process's
 * CPU time is read from /proc before and after, so the cost of an order per process is known and
 * the figure for a machine with more cores can be projected from it.
 *
 *   npx tsx bench/instances/run.ts                 (or: npm run bench:instances)
 *   BENCH_SECONDS=3 BENCH_INSTANCES=1,2 npx tsx bench/instances/run.ts   (a smoke run)
 */
import '../lib/local-postgres.js'; // first: chooses how the app reaches PostgreSQL
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { customerWalletId, worldId } from '../../ledger/rules/index.js';
import { createTestApp, testEnvironment, type TestApp } from '../../tests/helpers/app.js';
import { authHeader, createUser } from '../../tests/helpers/auth.js';
import { createTestDatabase, type TestDatabase } from '../../tests/helpers/database.js';
import { restaurantBody } from '../../tests/integration/catalog/helpers.js';
import { freePort } from '../../tests/integration/payments/helpers.js';
import { appProcess, type AppProcess } from '../../tests/faults/harness/app-process.js';
import { describeMachine, gitRevision, writeResult } from '../lib/machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const WARM_UP_SECONDS = Math.min(3, SECONDS);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const INSTANCES = (process.env.BENCH_INSTANCES ?? '1,2,3').split(',').map(Number);
const RESTAURANTS = 10;
/** ~7,000 XAF an order and a 500,000 XAF daily spending limit: ~70 orders per customer. */
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 600);
const WALLET_XAF = 450_000n;
const CLOCK_TICKS = 100; // USER_HZ on Linux
const workdir = mkdtempSync(path.join(tmpdir(), 'instances-bench-'));

interface Round {
  instances: number;
  ordersPerSecond: number;
  responses: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  errors: number;
  non2xx: number;
  /** CPU seconds each app process used during the measured seconds (user + system). */
  appCpuSeconds: number[];
  /** Σ app CPU / orders answered 2xx: what one order costs the app processes. */
  appCpuMsPerOrder: number;
  paidOrders: number;
}

async function post(app: TestApp, url: string, token: string, payload: unknown) {
  const response = await app.app.inject({
    method: 'POST',
    url,
    headers: authHeader(token),
    payload: payload as Record<string, unknown>,
  });
  if (response.statusCode >= 300) throw new Error(`${url}: ${response.statusCode} ${response.body}`);
  return response.json();
}

/** Restaurants with a menu, customers with money in their wallets, and their order bodies. */
async function world(database: TestDatabase, environment: Record<string, string>) {
  const setup = await createTestApp({ database, keepDatabase: true, env: environment });
  try {
    await setup.services.identity.keyRing.signingKey();
    const owner = await createUser(setup, { roles: ['customer', 'restaurant_owner'] });
    const admin = await createUser(setup, { roles: ['admin'] });
    const bodies: string[] = [];
    for (let index = 0; index < RESTAURANTS; index += 1) {
      const location = { latitude: 4.05 + index * 0.002, longitude: 9.76 + index * 0.002 };
      const restaurant = await post(
        setup,
        '/v1/restaurants',
        owner.accessToken,
        restaurantBody({ name: `Bench ${index}`, location }),
      );
      await post(setup, `/v1/admin/restaurants/${restaurant.id}/verify`, admin.accessToken, {
        decision: 'verify',
      });
      const category = await post(
        setup,
        `/v1/restaurants/${restaurant.id}/menu/categories`,
        owner.accessToken,
        {
          name: { fr: 'Plats' },
        },
      );
      const items = [];
      for (const [name, price] of [
        ['Ndolé', 2500],
        ['Jus de foléré', 500],
      ] as const) {
        items.push(
          await post(setup, `/v1/restaurants/${restaurant.id}/menu/items`, owner.accessToken, {
            categoryId: category.id,
            name: { fr: name },
            price,
          }),
        );
      }
      bodies.push(
        JSON.stringify({
          restaurantId: restaurant.id,
          items: [
            { itemId: items[0].id, quantity: 2 },
            { itemId: items[1].id, quantity: 1 },
          ],
          delivery: {
            latitude: location.latitude + 0.01,
            longitude: location.longitude,
            text: 'Rue 1.234, Bonapriso, Douala',
          },
          payment: { kind: 'wallet' },
          tipMinor: 200,
        }),
      );
    }
    // Access tokens from the real token service (no session rows: the bench measures orders).
    const userIds = Array.from({ length: CUSTOMERS }, () => randomUUID());
    const tokens: string[] = [];
    for (const userId of userIds) {
      const issued = await setup.services.identity.tokens.issue({
        userId,
        sessionId: randomUUID(),
        kind: 'user',
        roles: ['customer'],
        twoFactorVerified: false,
      });
      tokens.push(issued.token);
    }
    for (let start = 0; start < userIds.length; start += 100) {
      const outcomes = await setup.services.ledger.submit(
        userIds.slice(start, start + 100).map((userId) => ({
          id: `bench:wallet:${userId}`,
          debitAccountId: worldId('XAF'),
          creditAccountId: customerWalletId(userId, 'XAF'),
          amountMinor: WALLET_XAF,
          currency: 'XAF' as const,
          code: 'adjustment' as const,
          flags: {},
        })),
      );
      if (outcomes.some((outcome) => outcome.result !== 'ok')) throw new Error('wallet funding refused');
    }
    const fixture = path.join(workdir, 'orders.json');
    writeFileSync(fixture, JSON.stringify({ tokens, bodies }));
    return fixture;
  } finally {
    await setup.close();
  }
}

/** user + system CPU seconds of a process so far (/proc/<pid>/stat, fields 14 and 15). */
function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

function autocannon(urls: string[], duration: number, fixture: string) {
  const child = fork(path.join(here, '../lib/autocannon-process.cjs'), [], {
    env: { ...process.env, ORDERS_BENCH_FIXTURE: fixture },
  });
  return new Promise<{
    requestsPerSecond: number;
    responses: number;
    latency: { p50: number; p95: number; p99: number; max: number };
    errors: number;
    non2xx: number;
  }>((resolve, reject) => {
    child.once('message', (message) => {
      child.kill();
      resolve(message as never);
    });
    child.once('exit', (code) => reject(new Error(`the load process exited (${code})`)));
    child.send({
      url: urls,
      connections: CONNECTIONS,
      duration,
      setupRequest: path.join(here, '../orders/setup-request.cjs'),
    });
  });
}

async function paidOrders(database: TestDatabase): Promise<number> {
  const counted = await database.pool.query<{ count: string }>(
    "select count(*) from eventstore_events where type = 'OrderPaymentCaptured'",
  );
  return Number(counted.rows[0]?.count ?? 0);
}

async function round(
  count: number,
  database: TestDatabase,
  environment: Record<string, string>,
  fixture: string,
): Promise<Round> {
  const apps: AppProcess[] = [];
  try {
    // In order: the first takes the writer's lease, the others find it taken and forward.
    for (let index = 0; index < count; index += 1) {
      const app = appProcess(environment, await freePort());
      apps.push(app);
      await app.start();
    }
    const urls = apps.map((app) => app.baseUrl);
    await autocannon(urls, WARM_UP_SECONDS, fixture);
    const paidBefore = await paidOrders(database);
    const cpuBefore = apps.map((app) => cpuSeconds(app.pid()));
    const measured = await autocannon(urls, SECONDS, fixture);
    const appCpuSeconds = apps.map(
      (app, index) => Math.round((cpuSeconds(app.pid()) - cpuBefore[index]!) * 100) / 100,
    );
    const paid = (await paidOrders(database)) - paidBefore;
    const ok = measured.responses - measured.non2xx;
    const totalCpu = appCpuSeconds.reduce((sum, seconds) => sum + seconds, 0);
    const result: Round = {
      instances: count,
      ordersPerSecond: measured.requestsPerSecond,
      responses: measured.responses,
      latencyMs: measured.latency,
      errors: measured.errors,
      non2xx: measured.non2xx,
      appCpuSeconds,
      appCpuMsPerOrder: ok > 0 ? Math.round((totalCpu / ok) * 1000 * 100) / 100 : 0,
      paidOrders: paid,
    };
    console.log(
      `  ${count} instance(s): ${result.ordersPerSecond} orders/s, p95 ${result.latencyMs.p95} ms, ${paid} paid, ` +
        `${result.non2xx} non-2xx, app CPU ${appCpuSeconds.join(' + ')} s (${result.appCpuMsPerOrder} ms/order)`,
    );
    return result;
  } finally {
    for (const app of apps) await app.stop();
  }
}

async function main(): Promise<void> {
  const database = await createTestDatabase();
  const environment = Object.fromEntries(
    Object.entries(
      testEnvironment({
        DATABASE_URL: database.url,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'test',
        ORDERS_PAYMENT_PORT: 'ledger',
        PAYMENT_SIMULATORS: 'true',
        SEED_DEMO: 'false',
        MAX_EVENT_LOOP_DELAY_MS: '10000',
        // Each instance a pool of its own; three of them stay well under max_connections.
        DATABASE_POOL_MAX: '10',
      }),
    ).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  try {
    const fixture = await world(database, environment);
    const rounds: Round[] = [];
    for (const count of INSTANCES) rounds.push(await round(count, database, environment, fixture));
    // Every order's money in the ledger, replayed from genesis and compared with the read models.
    const check = await createTestApp({ database, keepDatabase: true, env: environment });
    const verified = await check.services.ledger.verify().finally(() => check.close());
    const one = rounds.find((entry) => entry.instances === 1);
    const machine = await describeMachine(async () => {
      const answer = await database.pool.query<{ server_version: string }>('show server_version');
      return answer.rows[0]!.server_version;
    });
    const cores = machine.cores;
    const file = writeResult('instances', {
      benchmark: 'wallet-paid orders per second with 1, 2 and 3 app processes on one PostgreSQL and Redis',
      revision: gitRevision(),
      machine,
      settings: {
        seconds: SECONDS,
        connections: CONNECTIONS,
        customers: CUSTOMERS,
        restaurants: RESTAURANTS,
      },
      rounds,
      ledgerVerified: verified.ok,
      projection:
        one === undefined
          ? null
          : {
              method:
                'orders/s ≈ cores available to app processes × 1000 / app CPU ms per order (PostgreSQL and Redis on machines of their own; the ledger writer is one process and batches, so it is not the limit at these rates)',
              appCpuMsPerOrder: one.appCpuMsPerOrder,
              perCoreOrdersPerSecond:
                one.appCpuMsPerOrder > 0 ? Math.round(1000 / one.appCpuMsPerOrder) : null,
              thisMachineCores: cores,
            },
    });
    console.log(`ledger verified: ${verified.ok}; written ${file}`);
  } finally {
    await database.drop();
  }
}

await main();
