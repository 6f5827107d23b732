import { sql } from 'kysely';
import { customerPointsId, customerWalletId, orderEscrowId, worldId } from '../../../ledger/rules/index.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, getOrder, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';
import { freePort, until } from '../payments/helpers.js';

export { until };

/**
 * An order world listening on a port (the simulators' webhooks reach it), paying through the
 * ledger, with the loyalty settings of the test file.
 */
export async function loyaltyWorld(loyalty: Record<string, string>): Promise<OrderWorld> {
  const port = await freePort();
  const world = await orderWorld({
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    PAYMENT_SIMULATORS: 'true',
    PAYMENT_SIMULATOR_DELAY_MS: '50',
    ORDERS_PAYMENT_PORT: 'ledger',
    ...loyalty,
  });
  await world.testApp.app.listen({ host: '127.0.0.1', port });
  return world;
}

/** A customer with XAF in the wallet (an adjustment from the world account). */
export async function fundedCustomer(
  world: OrderWorld,
  amountMinor = 50_000n,
  options: { phone?: string } = {},
): Promise<CreatedUser> {
  const customer = await createUser(world.testApp, { roles: ['customer'], ...options });
  const [outcome] = await world.testApp.services.ledger.submit([
    {
      id: `fund:${customer.userId}`,
      debitAccountId: worldId('XAF'),
      creditAccountId: customerWalletId(customer.userId, 'XAF'),
      amountMinor,
      currency: 'XAF',
      code: 'adjustment',
      flags: {},
    },
  ]);
  if (outcome!.result !== 'ok') throw new Error(`funding refused: ${outcome!.result}`);
  return customer;
}

/** One ndolé (2 500 XAF of food) and a 100 XAF tip, paid from the wallet, delivered and settled. */
export async function deliveredOrder(world: OrderWorld, customerToken: string) {
  const placed = await placeOrder(world, customerToken, {
    items: [{ itemId: world.ndoleId, quantity: 1 }],
    tipMinor: 100,
  });
  if (placed.statusCode !== 201) throw new Error(`placement failed: ${placed.body}`);
  const order = placed.json();
  const accepted = await act(world, order.id, 'accept', world.actors.owner.accessToken, {
    preparationMinutes: 10,
  });
  await act(world, order.id, 'prepare', world.actors.owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'ready', world.actors.owner.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.json().pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  if (delivered.statusCode !== 200) throw new Error(`delivery failed: ${delivered.body}`);
  await until(
    () => world.testApp.services.ledger.account(orderEscrowId(order.id, 'XAF')),
    (account) => account?.closed === true,
  );
  return order as {
    id: string;
    pricing: { subtotalMinor: number; discountMinor: number; totalMinor: number };
  };
}

export async function loyaltyOf(world: OrderWorld, token: string, query = '') {
  return world.testApp.app.inject({ method: 'GET', url: `/v1/loyalty${query}`, headers: authHeader(token) });
}

/** The points a customer was ever credited (the ledger's posted credits, PTS). */
export async function pointsCredited(world: OrderWorld, userId: string): Promise<bigint> {
  return (await world.testApp.services.ledger.account(customerPointsId(userId)))?.creditsPosted ?? 0n;
}

/** How many ledger lines a transfer has in the read model (2 once a transfer is applied). */
export async function ledgerLines(world: OrderWorld, transferId: string): Promise<string> {
  return (
    await sql<{ count: string }>`SELECT count(*)::text AS count FROM ledger_entries
      WHERE transfer_id = ${transferId}`.execute(world.testApp.services.db)
  ).rows[0]!.count;
}

/** Sweeps a day ahead until the order is COMPLETED (its dispute window closed). */
export function completeOrder(world: OrderWorld, orderId: string) {
  return until(
    async () => {
      await world.testApp.services.orders.orders.sweep(new Date(Date.now() + 25 * 3_600_000));
      return (await getOrder(world, orderId, world.support.accessToken)).json().status;
    },
    (status) => status === 'COMPLETED',
  );
}
