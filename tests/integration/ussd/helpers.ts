import { randomInt } from 'node:crypto';
import { customerWalletId, worldId } from '../../../ledger/rules/index.js';
import { orderWorld, type OrderWorld } from '../orders/helpers.js';
import { freePort, until } from '../payments/helpers.js';

export { until };

export const USSD_SECRET = 'ussd-test-secret-0123456789';
export const USSD_PATH = '/v1/ussd/africastalking';

/**
 * An order world listening on a port (the payment simulators' webhooks reach it), paying through
 * the ledger, with the USSD callback behind a secret.
 */
export async function ussdWorld(env: Record<string, string> = {}): Promise<OrderWorld> {
  const port = await freePort();
  const world = await orderWorld({
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    PAYMENT_SIMULATORS: 'true',
    PAYMENT_SIMULATOR_DELAY_MS: '50',
    ORDERS_PAYMENT_PORT: 'ledger',
    USSD_CALLBACK_SECRET: USSD_SECRET,
    ...env,
  });
  await world.testApp.app.listen({ host: '127.0.0.1', port });
  return world;
}

let cursor = randomInt(0, 9_000_000);
/** A fresh mobile of an operator: MTN 67x, Orange 69x, Nexttel 66x (no Mobile Money we collect). */
export function phoneOf(operator: 'MTN' | 'ORANGE' | 'NEXTTEL' = 'MTN'): string {
  cursor = (cursor + 1) % 10_000_000;
  const block = operator === 'MTN' ? '7' : operator === 'ORANGE' ? '9' : '6';
  return `+2376${block}${String(cursor).padStart(7, '0')}`;
}

let sessions = 0;
export function sessionId(): string {
  sessions += 1;
  return `ATUid_${process.pid}_${Date.now()}_${sessions}`;
}

/** One callback as Africa's Talking posts it (a form, the inputs `*`-joined). */
export async function callback(
  world: OrderWorld,
  fields: Record<string, string>,
  options: { key?: string | null; headers?: Record<string, string> } = {},
) {
  const key = options.key === undefined ? USSD_SECRET : options.key;
  return world.testApp.app.inject({
    method: 'POST',
    url: key === null ? USSD_PATH : `${USSD_PATH}?key=${encodeURIComponent(key)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...options.headers },
    payload: new URLSearchParams(fields).toString(),
  });
}

/** A phone's dial: `send(inputs…)` posts the whole `text` so far, like the aggregator does. */
export function dial(world: OrderWorld, phone: string, id = sessionId()) {
  const inputs: string[] = [];
  return {
    id,
    inputs,
    async send(...more: string[]) {
      inputs.push(...more);
      const response = await callback(world, {
        sessionId: id,
        serviceCode: '*123#',
        phoneNumber: phone,
        networkCode: '62401',
        text: inputs.join('*'),
      });
      if (response.statusCode !== 200) throw new Error(`callback ${response.statusCode}: ${response.body}`);
      return response.body;
    },
    /** The same callback again (the aggregator's retry). */
    async repeat() {
      return (
        await callback(world, {
          sessionId: id,
          serviceCode: '*123#',
          phoneNumber: phone,
          networkCode: '62401',
          text: inputs.join('*'),
        })
      ).body;
    },
  };
}

/** XAF in a customer's wallet (an adjustment from the world account). */
export async function fund(world: OrderWorld, userId: string, amountMinor = 50_000n): Promise<void> {
  const [outcome] = await world.testApp.services.ledger.submit([
    {
      id: `fund:${userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(userId, 'XAF'),
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  if (outcome!.result !== 'ok') throw new Error(`funding refused: ${outcome!.result}`);
}

/** Moves the phone's stored session back in time (as if the customer waited `seconds`). */
export async function age(world: OrderWorld, phone: string, seconds: number): Promise<void> {
  const { runtime, ussd } = world.testApp.services;
  const key = `${runtime.config.REDIS_KEY_PREFIX}ussd:${ussd.sessionKey(phone)}`;
  const raw = await runtime.redis!.get(key);
  if (raw === null) throw new Error('no stored session');
  const record = JSON.parse(raw) as { updatedAt: number };
  record.updatedAt -= seconds * 1_000;
  await runtime.redis!.set(key, JSON.stringify(record), 'PX', 600_000);
}
