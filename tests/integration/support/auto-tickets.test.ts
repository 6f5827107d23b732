import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader } from '../../helpers/auth.js';
import { until } from '../payments/helpers.js';
import { act, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await orderWorld();
}, 120_000);
afterAll(async () => world?.testApp.close());

const db = () => world.testApp.services.db;
const support = () => world.testApp.services.support;

async function pickedUpOrder(): Promise<{ id: string; deliveryPin: string }> {
  const { owner, customer } = world.actors;
  const order = (await placeOrder(world, customer.accessToken)).json();
  const accepted = (
    await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 15 })
  ).json();
  await act(world, order.id, 'prepare', owner.accessToken);
  await act(world, order.id, 'ready', owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  const picked = await act(world, order.id, 'pickup', world.driver.accessToken, {
    pickupCode: accepted.pickupCode,
  });
  expect(picked.json().status).toBe('PICKED_UP');
  return order;
}

async function deliveredOrder(): Promise<string> {
  const order = await pickedUpOrder();
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.json().status).toBe('DELIVERED');
  return order.id;
}

const ticketsOn = (orderId: string) =>
  db().selectFrom('support_tickets').selectAll().where('order_id', '=', orderId).execute();

const openedAudits = async (ticketId: string) =>
  (
    await db()
      .selectFrom('audit_logs')
      .select(['action', 'actor_kind'])
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.ticket_opened')
      .execute()
  ).length;

describe('support tickets opened from order events', () => {
  it('a dispute opened on the order opens a high-priority order-problem ticket for its customer, with their reason', async () => {
    const orderId = await deliveredOrder();
    const disputed = await act(world, orderId, 'dispute', world.actors.customer.accessToken, {
      reason: 'Il manquait deux plats de poulet DG.',
    });
    expect(disputed.statusCode, disputed.body).toBe(200);
    const [row] = await until(
      () => ticketsOn(orderId),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(row).toMatchObject({
      source: 'dispute',
      category: 'order_problem',
      priority: 'high',
      status: 'open',
      opener_id: world.actors.customer.userId,
      opener_role: 'customer',
    });
    expect(row!.source_event_id).not.toBeNull();

    // The customer sees it in the app, with their own reason as its first message.
    const read = await world.testApp.app.inject({
      method: 'GET',
      url: `/v1/support/tickets/${row!.id}`,
      headers: authHeader(world.actors.customer.accessToken),
    });
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json()).toMatchObject({
      source: 'dispute',
      subject: expect.stringContaining(orderId.slice(0, 8)),
      order: { status: 'DISPUTED', dispute: 'open' },
      messages: [
        expect.objectContaining({
          authorId: world.actors.customer.userId,
          body: 'Il manquait deux plats de poulet DG.',
        }),
      ],
    });
    expect(await openedAudits(row!.id)).toBe(1);
    // It is in the staff queue.
    const queue = await support().queue({ status: 'open', limit: 50 });
    expect(queue.items.map((item) => item.id)).toContain(row!.id);
  });

  it('the same event handled again, or by two instances at once, opens one ticket with one message and one opening audit', async () => {
    const orderId = await deliveredOrder();
    await act(world, orderId, 'dispute', world.actors.customer.accessToken, { reason: 'Plat renversé.' });
    const [row] = await until(
      () => ticketsOn(orderId),
      (rows) => rows.length === 1,
      30_000,
    );
    const events = await world.testApp.services.eventStore.readStream(`order-${orderId}`);
    const dispute = events.find((event) => event.type === 'OrderDisputeOpened')!;
    // A replay after a crash before the checkpoint.
    expect(await support().autoTickets.handle(dispute)).toEqual({ outcome: 'replayed', ticketId: row!.id });
    // Two instances racing on an event nobody handled yet: the ticket row of the first is removed
    // to stand for "not yet handled" (the audit log is append-only: its first entry stays), then
    // both handle it at once.
    await db().deleteFrom('support_tickets').where('id', '=', row!.id).execute();
    const outcomes = await Promise.all([
      support().autoTickets.handle(dispute),
      support().autoTickets.handle(dispute),
    ]);
    expect(outcomes.every((outcome) => 'ticketId' in outcome && outcome.ticketId === row!.id)).toBe(true);
    expect(await ticketsOn(orderId)).toHaveLength(1);
    expect(
      await db().selectFrom('support_messages').select('id').where('ticket_id', '=', row!.id).execute(),
    ).toHaveLength(1);
    expect(await openedAudits(row!.id)).toBe(2);
  });

  it("a dispute opened from the customer's own ticket opens no second ticket", async () => {
    const orderId = await deliveredOrder();
    const opened = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/support/tickets',
      headers: authHeader(world.actors.customer.accessToken),
      payload: { category: 'order_problem', subject: 'Plat froid', body: 'Le ndolé était froid.', orderId },
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const handled: string[] = [];
    support().autoTickets.onHandled((event, outcome) => {
      if (event.stream === `order-${orderId}`) handled.push(outcome.outcome);
    });
    const disputed = await world.testApp.app.inject({
      method: 'POST',
      url: `/v1/support/tickets/${opened.json().id}/dispute`,
      headers: authHeader(world.actors.customer.accessToken),
      payload: { reason: 'Froid et incomplet.' },
    });
    expect(disputed.statusCode, disputed.body).toBe(200);
    await until(
      async () => handled,
      (list) => list.length === 1,
      30_000,
    );
    expect(handled).toEqual(['skipped']);
    const rows = await ticketsOn(orderId);
    expect(rows.map((row) => row.source)).toEqual(['app']);
  });

  it("a failed delivery opens a delivery ticket for the customer, its first message the reporter's reason", async () => {
    const order = await pickedUpOrder();
    const failed = await act(world, order.id, 'delivery-failed', world.support.accessToken, {
      reason: 'Client injoignable au point de livraison.',
    });
    expect(failed.statusCode, failed.body).toBe(200);
    const [row] = await until(
      () => ticketsOn(order.id),
      (rows) => rows.length === 1,
      30_000,
    );
    expect(row).toMatchObject({
      source: 'delivery_failed',
      category: 'delivery',
      opener_id: world.actors.customer.userId,
      status: 'open',
    });
    const messages = await support().repository.messages(row!.id, true);
    expect(messages).toHaveLength(1);
    expect(messages[0]!.author_id).toBe(world.support.userId);
    const view = await support().read(
      {
        userId: world.actors.customer.userId,
        roles: ['customer'],
        permissions: new Set(),
        actor: { kind: 'user', userId: world.actors.customer.userId },
      },
      row!.id,
    );
    expect(view.messages[0]!.body).toBe('Livraison échouée : Client injoignable au point de livraison.');
  });
});
