/**
 * Agents see only the order data their tickets need (docs/support.md "Orders seen by agents"),
 * through the real routes: `GET /v1/orders/{id}`, `GET /v1/admin/orders`, the order's photos and
 * proofs (`GET /v1/files/{id}`), the order's transitions, and the `/ws/support` escalations. A plain
 * agent reaches an order only through a ticket assigned to them; supervisors and admins keep wide
 * access; every read by an agent is audited, and so is a refused one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { connectWs, type WsClient } from '../../helpers/ws-client.js';
import { noisyJpeg, upload } from '../files/helpers.js';
import { act, getOrder, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

let world: OrderWorld;
let agent: CreatedUser;
let otherAgent: CreatedUser;
let supervisor: CreatedUser;
let admin: CreatedUser;
let ticketOrder: { id: string; pickupCode: string };
let otherOrder: { id: string; pickupCode: string };
let ticketPhoto: string;
let otherPhoto: string;
const sockets: WsClient[] = [];

const services = () => world.testApp.services;
const get = (url: string, user: CreatedUser) =>
  world.testApp.app.inject({ method: 'GET', url, headers: authHeader(user.accessToken) });

/** An order accepted by the restaurant, with the kitchen's packed photo. */
async function acceptedWithPhoto(): Promise<{ id: string; pickupCode: string; photo: string }> {
  const placed = await placeOrder(world, world.actors.customer.accessToken, {
    items: [{ itemId: world.ndoleId, quantity: 1 }],
  });
  expect(placed.statusCode, placed.body).toBe(201);
  const id = placed.json().id as string;
  const accepted = await act(world, id, 'accept', world.actors.owner.accessToken, { preparationMinutes: 10 });
  expect(accepted.statusCode, accepted.body).toBe(200);
  const photo = await upload(
    world.testApp,
    world.actors.owner.accessToken,
    { purpose: 'order_packed_photo', orderId: id },
    { body: await noisyJpeg(320, 240) },
  );
  expect(photo.statusCode, photo.body).toBe(201);
  return { id, pickupCode: accepted.json().pickupCode as string, photo: photo.json().id as string };
}

const audits = (action: string, resource: string, actorId: string) =>
  services()
    .db.selectFrom('audit_logs')
    .select(['actor_id', 'subject_user_id', 'new_value'])
    .where('action', '=', action)
    .where('resource', '=', resource)
    .where('actor_id', '=', actorId)
    .execute();

beforeAll(async () => {
  world = await orderWorld();
  supervisor = world.support; // made a supervisor by the orders world
  admin = world.actors.admin;
  [agent, otherAgent] = await Promise.all([
    createUser(world.testApp, { roles: ['support'] }),
    createUser(world.testApp, { roles: ['support'] }),
  ]);
  const first = await acceptedWithPhoto();
  const second = await acceptedWithPhoto();
  ticketOrder = first;
  otherOrder = second;
  ticketPhoto = first.photo;
  otherPhoto = second.photo;
  const opened = await world.testApp.app.inject({
    method: 'POST',
    url: '/v1/support/tickets',
    headers: authHeader(world.actors.customer.accessToken),
    payload: {
      category: 'order_problem',
      subject: 'Commande en retard',
      body: 'Ma commande tarde.',
      orderId: ticketOrder.id,
    },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const assigned = await world.testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/support/tickets/${opened.json().id}/assign`,
    headers: authHeader(supervisor.accessToken),
    payload: { assigneeId: agent.userId },
  });
  expect(assigned.statusCode, assigned.body).toBe(200);
}, 240_000);
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await world?.testApp.close();
});

describe('one order by id', () => {
  it('the agent whose ticket names the order reads its reduced view, audited', async () => {
    const read = await getOrder(world, ticketOrder.id, agent.accessToken);
    expect(read.statusCode, read.body).toBe(200);
    expect(read.json().id ?? read.json().orderId).toBe(ticketOrder.id);
    expect(read.json().pickupCode).toBeUndefined();
    expect(await audits('order.viewed_by_support', `order:${ticketOrder.id}`, agent.userId)).toHaveLength(1);
  });

  it('another order, or the same order for an agent without its ticket, is absent (404), the refusal audited', async () => {
    for (const [orderId, reader] of [
      [otherOrder.id, agent],
      [ticketOrder.id, otherAgent],
    ] as const) {
      const refused = await getOrder(world, orderId, reader.accessToken);
      expect(refused.statusCode, refused.body).toBe(404);
      expect(refused.json().code).toBe('order_not_found');
      expect(refused.body).not.toContain(world.actors.customer.userId);
      const refusals = await audits('order.view_refused', `order:${orderId}`, reader.userId);
      expect(refusals).toEqual([expect.objectContaining({ subject_user_id: world.actors.customer.userId })]);
      expect(await audits('order.viewed_by_support', `order:${orderId}`, reader.userId)).toHaveLength(0);
    }
  });

  it('a supervisor and an admin read any order; the supervisor’s read is audited', async () => {
    for (const reader of [supervisor, admin]) {
      const read = await getOrder(world, otherOrder.id, reader.accessToken);
      expect(read.statusCode, read.body).toBe(200);
    }
    expect(await audits('order.viewed_by_support', `order:${otherOrder.id}`, supervisor.userId)).toHaveLength(
      1,
    );
  });

  it('a plain agent cannot act on an order outside their tickets (404, the order unchanged)', async () => {
    const refused = await act(world, otherOrder.id, 'cancel', agent.accessToken, { reason: 'test' });
    expect(refused.statusCode, refused.body).toBe(404);
    expect((await getOrder(world, otherOrder.id, admin.accessToken)).json().status).toBe('ACCEPTED');
  });
});

describe('the admin list of orders', () => {
  const ids = (response: { json(): { items: { id?: string; orderId?: string }[] } }) =>
    response.json().items.map((item) => item.id ?? item.orderId);

  it('lists to a plain agent only their tickets’ orders, to another agent none', async () => {
    const mine = await get('/v1/admin/orders', agent);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(ids(mine)).toEqual([ticketOrder.id]);
    const none = await get('/v1/admin/orders?live=false', otherAgent);
    expect(none.statusCode, none.body).toBe(200);
    expect(ids(none)).toEqual([]);
  });

  it('lists every order to a supervisor and an admin', async () => {
    for (const reader of [supervisor, admin]) {
      const all = await get('/v1/admin/orders', reader);
      expect(all.statusCode, all.body).toBe(200);
      expect(ids(all)).toEqual(expect.arrayContaining([ticketOrder.id, otherOrder.id]));
    }
  });
});

describe('the order’s photos and proofs', () => {
  it('the agent reads the photo of their ticket’s order, not another order’s; another agent neither', async () => {
    const allowed = await get(`/v1/files/${ticketPhoto}`, agent);
    expect(allowed.statusCode, allowed.body).toBe(200);
    for (const [fileId, reader] of [
      [otherPhoto, agent],
      [ticketPhoto, otherAgent],
    ] as const) {
      const refused = await get(`/v1/files/${fileId}`, reader);
      expect(refused.statusCode, refused.body).toBe(404);
      expect(refused.body).not.toContain('/v1/files/blobs/');
    }
  });

  it('supervisors and admins read any order’s photo, each read audited', async () => {
    for (const reader of [supervisor, admin]) {
      const read = await get(`/v1/files/${otherPhoto}`, reader);
      expect(read.statusCode, read.body).toBe(200);
      expect(await audits('file.read', `file:${otherPhoto}`, reader.userId)).toHaveLength(1);
    }
  });
});

describe('the order’s escalations on /ws/support', () => {
  it('tell every agent that an order needs help, without the order’s contents', async () => {
    const base = (await world.testApp.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
    const socket = await connectWs(base, '/ws/support', { access_token: otherAgent.accessToken });
    sockets.push(socket);
    await act(world, otherOrder.id, 'prepare', world.actors.owner.accessToken);
    expect((await act(world, otherOrder.id, 'claim', world.driver.accessToken)).statusCode).toBe(200);
    await act(world, otherOrder.id, 'ready', world.actors.owner.accessToken);
    const pickedUp = await act(world, otherOrder.id, 'pickup', world.driver.accessToken, {
      pickupCode: otherOrder.pickupCode,
    });
    expect(pickedUp.statusCode, pickedUp.body).toBe(200);
    const reason = 'Client injoignable au portail bleu';
    const failed = await act(world, otherOrder.id, 'delivery-failed', supervisor.accessToken, { reason });
    expect(failed.statusCode, failed.body).toBe(200);
    const heard = await socket.next(
      (message) => message.channel === 'escalations' && message.orderId === otherOrder.id,
      15_000,
    );
    expect(heard).toMatchObject({ type: 'OrderDeliveryFailed', data: { status: 'DELIVERY_FAILED' } });
    expect(Object.keys(heard.data as object).sort()).toEqual(['revision', 'status']);
    expect(JSON.stringify(heard)).not.toContain(reason);
    expect(JSON.stringify(heard)).not.toContain('totalMinor');
  }, 60_000);
});
