/**
 * A request whose process stops after the work and before its answer is stored: the client's
 * retry with the same Idempotency-Key gets the original outcome (the same order, the same
 * top-up), not a second one and not 409 for 24 hours. The app runs in a child process that
 * kills itself (SIGKILL) at the crash point; the retry goes to another app on the same database.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWalletId, worldId } from '../../ledger/rules/index.js';
import { ORDER_STREAM_PREFIX } from '../../src/modules/orders/events.js';
import { paymentStream } from '../../src/modules/payments/payment-decider.js';
import { testEnvironment } from '../helpers/app.js';
import { authHeader, createUser } from '../helpers/auth.js';
import { orderBody, orderWorld, type OrderWorld } from '../integration/orders/helpers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const LEASE = { IDEMPOTENCY_LEASE_SECONDS: '2', REQUEST_TIMEOUT_MS: '1000' };
let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld({ ORDERS_PAYMENT_PORT: 'ledger', PAYMENT_SIMULATORS: 'true', ...LEASE });
});
afterAll(async () => world?.testApp.close());

interface InjectRequest {
  method: 'POST';
  url: string;
  headers: Record<string, string>;
  payload: Record<string, unknown>;
}

/** Runs the request in a child app on the same database and Redis; resolves with how it ended. */
function runAndCrash(request: InjectRequest, killAt: 'order-appended' | 'answer-stored') {
  const config = world.testApp.services.runtime.config;
  const env = testEnvironment({
    DATABASE_URL: world.testApp.database.url,
    REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
    JWT_SECRET: config.JWT_SECRET,
    JWT_REFRESH_SECRET: config.JWT_REFRESH_SECRET,
    ENCRYPTION_KEY: config.ENCRYPTION_KEY,
    DATA_DIR: config.DATA_DIR,
    ORDERS_PAYMENT_PORT: 'ledger',
    PAYMENT_SIMULATORS: 'true',
    JOB_WORKERS_ENABLED: 'false',
    LOG_LEVEL: 'silent',
    ...LEASE,
  });
  const child = fork(path.join(here, 'crash-child.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      CHILD_ENV: JSON.stringify(env),
      CHILD_REQUEST: JSON.stringify(request),
      KILL_AT: killAt,
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise<{ signal: string | null; answered?: unknown }>((resolve, reject) => {
    let answered: unknown;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the child never reached the crash point'));
    }, 90_000);
    child.on('message', (message) => (answered = message));
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      resolve({ signal, answered });
    });
  });
}

async function fund(userId: string, amountMinor: bigint) {
  const [outcome] = await world.testApp.services.ledger.submit([
    {
      id: `test-fund:${userId}`,
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

async function orderStreamsOf(customerId: string): Promise<string[]> {
  const rows = await world.testApp.services.db
    .selectFrom('eventstore_events')
    .select('stream_id')
    .where('stream_id', 'like', `${ORDER_STREAM_PREFIX}%`)
    .where('type', '=', 'OrderCreated')
    .where(({ ref, eb }) => eb(ref('data'), '@>', JSON.stringify({ customer: { id: customerId } }) as never))
    .execute();
  return rows.map((row) => row.stream_id);
}

/** How many times the ledger recorded the wallet's payment transfers of this order (in its events). */
async function walletTransfersOf(orderId: string): Promise<number> {
  const marker = `wallet-pay:${orderId}:`;
  const result = await sql<{ count: number }>`
    SELECT coalesce(sum((length(data::text) - length(replace(data::text, ${marker}, ''))) / length(${marker})), 0)::int AS count
      FROM eventstore_events WHERE stream_id NOT LIKE ${`${ORDER_STREAM_PREFIX}%`}`.execute(
    world.testApp.services.db,
  );
  return result.rows[0]!.count;
}

describe('a retry after the process stopped before answering', () => {
  it(
    'a wallet order paid and appended, then the crash: the retry answers that order, paid once',
    { timeout: 120_000 },
    async () => {
      const customer = await createUser(world.testApp, { roles: ['customer'] });
      await fund(customer.userId, 100_000n);
      const request: InjectRequest = {
        method: 'POST',
        url: '/v1/orders',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': `crash-order-${customer.userId}` },
        payload: orderBody(world),
      };
      // One ledger writer at a time (a lease): this app's lets go, so the child's can pay.
      await world.testApp.services.ledger.writer.close();
      const crashed = await runAndCrash(request, 'order-appended');
      expect(crashed).toEqual({ signal: 'SIGKILL', answered: undefined });
      const streams = await orderStreamsOf(customer.userId);
      expect(streams).toHaveLength(1);
      const orderId = streams[0]!.slice(ORDER_STREAM_PREFIX.length);
      const paid = await walletTransfersOf(orderId);
      expect(paid).toBeGreaterThan(0);

      const retry = await world.testApp.app.inject(request);
      expect(retry.statusCode, retry.body).toBe(201);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(`${ORDER_STREAM_PREFIX}${retry.json().id}`).toBe(streams[0]);
      expect(retry.json().status).toBe('PLACED');
      const again = await world.testApp.app.inject(request);
      expect(again.json().id).toBe(retry.json().id);
      expect(await orderStreamsOf(customer.userId)).toHaveLength(1);
      expect(await walletTransfersOf(orderId)).toBe(paid);
    },
  );

  it(
    'a top-up started, then the crash before its answer was stored: after the lease the retry answers that payment',
    { timeout: 120_000 },
    async () => {
      const customer = await createUser(world.testApp, { roles: ['customer'] });
      const request: InjectRequest = {
        method: 'POST',
        url: '/v1/wallet/topups',
        headers: { ...authHeader(customer.accessToken), 'idempotency-key': `crash-topup-${customer.userId}` },
        payload: { amountMinor: 5_000, phone: '+237670000001' },
      };
      expect(await runAndCrash(request, 'answer-stored')).toEqual({ signal: 'SIGKILL', answered: undefined });
      const payments = () =>
        world.testApp.services.db
          .selectFrom('eventstore_events')
          .select('stream_id')
          .where('type', '=', 'PaymentInitiated')
          .where(({ ref, eb }) => eb(ref('data'), '@>', JSON.stringify({ userId: customer.userId }) as never))
          .execute();
      expect(await payments()).toHaveLength(1);

      const early = await world.testApp.app.inject(request);
      expect(early.json()).toMatchObject({ status: 409, code: 'idempotency_in_progress' });
      await new Promise((resolve) => setTimeout(resolve, Number(early.headers['retry-after']) * 1000 + 200));
      const retry = await world.testApp.app.inject(request);
      expect(retry.statusCode, retry.body).toBe(202);
      expect(paymentStream(retry.json().payment.paymentId)).toBe((await payments())[0]!.stream_id);
      const replay = await world.testApp.app.inject(request);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json()).toEqual(retry.json());
      expect(await payments()).toHaveLength(1);
    },
  );
});
