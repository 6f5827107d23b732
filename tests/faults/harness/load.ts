import { NEAR } from '../../integration/orders/helpers.js';
import { operation, type Client, type Operation, type Outcome } from './client.js';
import type { Customer, FaultWorld } from './world.js';

export type Phase = 'money-in' | 'delivery' | 'money-out';
export const PHASES: readonly Phase[] = ['money-in', 'delivery', 'money-out'];

export interface PlacedOrder {
  id: string;
  customer: Customer;
  deliveryPin: string;
  kind: 'wallet' | 'mobile_money';
  status: string;
}

export interface LoadResult {
  orders: PlacedOrder[];
  /** Requests refused for a reason that is not the fault's (kept for the report). */
  notes: string[];
  /** Requests that never got an answer, retries included (each is a finding). */
  unanswered: string[];
}

const ACTIVE = new Set(['PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP', 'PICKED_UP']);
/** The order of statuses along the happy path: a retried transition that finds its order further is done. */
const PATH = ['PLACED', 'ACCEPTED', 'PREPARING', 'READY_FOR_PICKUP', 'PICKED_UP', 'DELIVERED', 'COMPLETED'];

/** An order of the world's two dishes, delivered near the restaurant (the fault load and the journey bench). */
export function orderBody(world: FaultWorld, payment: Record<string, unknown>) {
  return {
    restaurantId: world.restaurantId,
    items: [
      { itemId: world.ndoleId, quantity: 1 },
      { itemId: world.jusId, quantity: 1 },
    ],
    delivery: NEAR,
    payment,
    tipMinor: 200,
  };
}

/** Sends with retries; a request that never gets an answer is recorded, and the load goes on. */
async function answered(
  client: Client,
  request: Operation,
  result: LoadResult,
): Promise<Outcome | undefined> {
  try {
    return await client.send(request);
  } catch (error) {
    result.unanswered.push((error as Error).message.slice(0, 300));
    return undefined;
  }
}

function expectAnswer(outcome: Outcome, accepted: number[], what: string): void {
  if (!accepted.includes(outcome.status))
    throw new Error(`${what}: ${outcome.status} ${JSON.stringify(outcome.body).slice(0, 400)}`);
}

/** Top-ups, wallet orders and Mobile Money orders, every customer at once (24 requests in flight). */
async function moneyIn(world: FaultWorld, client: Client, result: LoadResult): Promise<void> {
  await Promise.all(
    world.customers.map(async (customer) => {
      const token = customer.accessToken;
      const requests = [
        operation('top-up', '/v1/wallet/topups', token, { amountMinor: 2_000, phone: customer.momoPhone }),
        operation('wallet order', '/v1/orders', token, orderBody(world, { kind: 'wallet' })),
        operation('wallet order', '/v1/orders', token, orderBody(world, { kind: 'wallet' })),
        operation(
          'mobile money order',
          '/v1/orders',
          token,
          orderBody(world, { kind: 'mobile_money', provider: 'MTN', phone: customer.momoPhone }),
        ),
      ];
      await Promise.all(
        requests.map(async (request) => {
          const outcome = await answered(client, request, result);
          if (outcome === undefined) return;
          if (request.name === 'top-up') return expectAnswer(outcome, [202], request.name);
          // A Mobile Money order no provider could take is failed at once (503/502 naming it).
          if (outcome.status >= 500 && typeof outcome.body.orderId === 'string') {
            result.notes.push(`${request.name}: ${outcome.status} ${String(outcome.body.code)}`);
            return;
          }
          // A wallet that cannot pay answers 402 naming the order it left in PAYMENT_FAILED.
          if (outcome.status === 402 && typeof outcome.body.orderId === 'string') {
            result.orders.push({
              id: outcome.body.orderId,
              customer,
              deliveryPin: '',
              kind: 'wallet',
              status: 'PAYMENT_FAILED',
            });
            return;
          }
          expectAnswer(outcome, [201], request.name);
          result.orders.push({
            id: outcome.body.id as string,
            customer,
            deliveryPin: outcome.body.deliveryPin as string,
            kind: request.name === 'wallet order' ? 'wallet' : 'mobile_money',
            status: outcome.body.status as string,
          });
        }),
      );
    }),
  );
}

async function readStatus(world: FaultWorld, client: Client, order: PlacedOrder): Promise<string> {
  // The app may be restarting: reads wait for it as long as the client's retries would.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const answer = await client
      .get(`/v1/orders/${order.id}`, order.customer.accessToken)
      .catch(() => undefined);
    if (answer?.status === 200) return answer.body.status as string;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`order ${order.id} could not be read`);
}

/** Waits (bounded) for Mobile Money orders to be paid; the others are left as they are. */
async function settled(world: FaultWorld, client: Client, order: PlacedOrder): Promise<string> {
  const deadline = Date.now() + 20_000;
  let status = await readStatus(world, client, order);
  while (status === 'PENDING_PAYMENT' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    status = await readStatus(world, client, order);
  }
  return status;
}

async function transition(
  client: Client,
  order: PlacedOrder,
  action: string,
  token: string,
  target: string,
  body: Record<string, unknown> = {},
): Promise<Outcome> {
  const outcome = await client.send(
    operation(`order ${action}`, `/v1/orders/${order.id}/${action}`, token, body),
  );
  if (outcome.status === 200) return outcome;
  // A retry of a transition the app made before it died: the order is already further along.
  const current = String(outcome.body.currentStatus ?? '');
  if (outcome.status === 409 && PATH.indexOf(current) >= PATH.indexOf(target)) return outcome;
  throw new Error(`order ${action}: ${outcome.status} ${JSON.stringify(outcome.body).slice(0, 400)}`);
}

/** One order per customer is cancelled by its customer; every other paid order is delivered. */
async function delivery(world: FaultWorld, client: Client, result: LoadResult): Promise<void> {
  const cancelled = new Set<string>();
  await Promise.all(
    result.orders.map((order) =>
      deliverOne(world, client, order, cancelled).catch((error: unknown) =>
        result.unanswered.push(`order ${order.id}: ${(error as Error).message.slice(0, 300)}`),
      ),
    ),
  );
}

async function deliverOne(
  world: FaultWorld,
  client: Client,
  order: PlacedOrder,
  cancelled: Set<string>,
): Promise<void> {
  order.status = await settled(world, client, order);
  if (!ACTIVE.has(order.status)) return;
  if (order.kind === 'wallet' && !cancelled.has(order.customer.userId)) {
    cancelled.add(order.customer.userId);
    await transition(client, order, 'cancel', order.customer.accessToken, 'CANCELLED', {
      reason: 'changed my mind',
    });
    return;
  }
  const owner = world.owner.accessToken;
  const driver = world.driver.accessToken;
  const accepted = await transition(client, order, 'accept', owner, 'ACCEPTED', {
    preparationMinutes: 20,
  });
  const pickupCode =
    (accepted.body.pickupCode as string | undefined) ??
    ((await client.get(`/v1/orders/${order.id}`, owner)).body.pickupCode as string);
  await transition(client, order, 'prepare', owner, 'PREPARING');
  await transition(client, order, 'claim', driver, 'PREPARING');
  await transition(client, order, 'ready', owner, 'READY_FOR_PICKUP');
  await transition(client, order, 'pickup', driver, 'PICKED_UP', { pickupCode });
  await transition(client, order, 'deliver', driver, 'DELIVERED', { deliveryPin: order.deliveryPin });
}

async function available(client: Client, path: string, token: string): Promise<number> {
  const answer = await client.get(path, token).catch(() => undefined);
  return Number(answer?.body.availableMinor ?? 0);
}

/** Withdrawals by every customer, the driver's and the restaurant's payouts, approved by finance. */
async function moneyOut(world: FaultWorld, client: Client, result: LoadResult): Promise<void> {
  const withdrawals = world.customers.map((customer) =>
    answered(
      client,
      operation('withdrawal', '/v1/wallet/withdrawals', customer.accessToken, { amountMinor: 1_000 }),
      result,
    ),
  );
  const payees = [
    { token: world.driver.accessToken, body: { payeeKind: 'driver' }, query: 'payeeKind=driver' },
    {
      token: world.owner.accessToken,
      body: { payeeKind: 'restaurant', restaurantId: world.restaurantId },
      query: `payeeKind=restaurant&restaurantId=${world.restaurantId}`,
    },
  ];
  const payouts = payees.map((payee) => payOut(world, client, result, payee));
  for (const outcome of await Promise.all(withdrawals))
    if (outcome !== undefined) expectAnswer(outcome, [201], 'withdrawal');
  await Promise.all(payouts);
}

async function payOut(
  world: FaultWorld,
  client: Client,
  result: LoadResult,
  payee: { token: string; body: Record<string, unknown>; query: string },
): Promise<void> {
  // The delivery's settlement (the escrow reactor) pays the payable shortly after the delivery.
  const deadline = Date.now() + 20_000;
  let amountMinor = await available(client, `/v1/payouts?${payee.query}`, payee.token);
  while (amountMinor <= 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    amountMinor = await available(client, `/v1/payouts?${payee.query}`, payee.token);
  }
  if (amountMinor <= 0) {
    result.notes.push(`nothing to pay out for ${String(payee.body.payeeKind)}`);
    return;
  }
  const payout = operation('payout', '/v1/payouts', payee.token, { ...payee.body, amountMinor });
  const requested = await answered(client, payout, result);
  if (requested === undefined) return;
  expectAnswer(requested, [201], 'payout');
  const path = `/v1/admin/payouts/${String(requested.body.payoutId)}/approve`;
  const approved = await answered(client, operation('payout approval', path, world.adminToken), result);
  if (approved === undefined) return;
  // Admin activity lives only in Redis: emptied, it ends every admin session (fail-closed). The
  // payout stays REQUESTED with its hold; finance would sign in again.
  // The first admin call after the loss answers session_idle_timeout and ends the session; any
  // later one (the second payee's approval) finds that session revoked.
  if (
    approved.status === 401 &&
    ['session_idle_timeout', 'token_revoked'].includes(String(approved.body.code))
  ) {
    result.notes.push(
      `payout approval: admin session ended (its activity was lost with Redis): ${String(approved.body.code)}`,
    );
    return;
  }
  // A retried approval whose first try landed finds the payout already approved or further.
  if (approved.status !== 200 && approved.body.code !== 'payout_not_requested')
    expectAnswer(approved, [200], 'payout approval');
}

/**
 * The bounded load of a schedule: money in (top-ups, wallet and Mobile Money orders), orders
 * delivered or cancelled (escrow released or refunded), money out (withdrawals and payouts, sent
 * by the job). `atPhase` is told when each phase starts, so a fault can be timed into it.
 */
export async function runLoad(
  world: FaultWorld,
  client: Client,
  atPhase: (phase: Phase) => void = () => undefined,
): Promise<LoadResult> {
  const result: LoadResult = { orders: [], notes: [], unanswered: [] };
  atPhase('money-in');
  await moneyIn(world, client, result);
  atPhase('delivery');
  await delivery(world, client, result);
  atPhase('money-out');
  await moneyOut(world, client, result);
  return result;
}
