import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader } from '../../helpers/auth.js';
import { freePort } from '../../helpers/ports.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';

/** A free TCP port on loopback (the simulators post webhooks to the app listening there). */
export { freePort };

/**
 * The real app with the in-process simulators (50 ms settlement), listening on loopback so that
 * the simulators' webhooks reach it, with the real ledger payment port for orders.
 */
export async function paymentsTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const port = await freePort();
  const testApp = await createTestApp({
    env: {
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      PAYMENT_SIMULATORS: 'true',
      PAYMENT_SIMULATOR_DELAY_MS: '50',
      PAYMENT_POLL_INITIAL_DELAY_MS: '250',
      ORDERS_PAYMENT_PORT: 'ledger',
      ...env,
    },
  });
  await testApp.app.listen({ host: '127.0.0.1', port });
  return testApp;
}

export const key = (): string => `test-${randomUUID()}`;

export async function until<T>(
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (accept(value)) return value;
    if (Date.now() > deadline)
      throw new Error(
        `condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

export async function topUp(
  testApp: TestApp,
  token: string,
  amountMinor: number,
  phone: string,
  idempotencyKey = key(),
) {
  return testApp.app.inject({
    method: 'POST',
    url: '/v1/wallet/topups',
    headers: { ...authHeader(token), 'idempotency-key': idempotencyKey },
    payload: { amountMinor, phone },
  });
}

export async function wallet(testApp: TestApp, token: string) {
  const response = await testApp.app.inject({ method: 'GET', url: '/v1/wallet', headers: authHeader(token) });
  return response.json() as {
    balanceMinor: number;
    availableMinor: number;
    heldMinor: number;
    status: string;
    limits: {
      dailyMinor: number;
      monthlyMinor: number;
      spentTodayMinor: number;
      spentThisMonthMinor: number;
    };
    categoryControls: {
      category: string;
      blocked: boolean;
      monthlyLimitMinor: number | null;
      spentThisMonthMinor: number;
    }[];
  };
}

export async function paymentStatus(testApp: TestApp, token: string, paymentId: string): Promise<string> {
  const response = await testApp.app.inject({
    method: 'GET',
    url: `/v1/payments/${paymentId}`,
    headers: authHeader(token),
  });
  return (response.json() as { status: string }).status;
}

/**
 * An order world on the real payment port (ledger) with the provider simulators, listening on a
 * free port so that the simulators' webhooks reach it.
 */
export async function listeningPaymentsWorld(env: Record<string, string> = {}): Promise<OrderWorld> {
  const port = await freePort();
  const world = await orderWorld({
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    PAYMENT_SIMULATORS: 'true',
    PAYMENT_SIMULATOR_DELAY_MS: '50',
    PAYMENT_POLL_INITIAL_DELAY_MS: '250',
    ORDERS_PAYMENT_PORT: 'ledger',
    ...env,
  });
  await world.testApp.app.listen({ host: '127.0.0.1', port });
  return world;
}
