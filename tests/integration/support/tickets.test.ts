import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { act, idempotencyKey, orderWorld, placeOrder, type OrderWorld } from '../orders/helpers.js';

let world: OrderWorld;
let customer: CreatedUser;
let stranger: CreatedUser;
let staff: CreatedUser;

beforeAll(async () => {
  // A low high-value threshold: every test order (a few thousand XAF) raises its ticket's priority.
  world = await orderWorld({ SUPPORT_HIGH_VALUE_ORDER_XAF: '1000', SUPPORT_REOPEN_DAYS: '7' });
  customer = world.actors.customer;
  staff = world.support;
  stranger = await createUser(world.testApp, { roles: ['customer'] });
  // Escalated tickets are moved on by supervisors only (assignment.test.ts): this agent is one.
  await world.testApp.services.support.agents.configure(staff.userId, { supervisor: true }, new Date());
}, 120_000);
afterAll(async () => world?.testApp.close());

const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown, headers = {}) =>
  world.testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const openTicket = (token: string, payload: Record<string, unknown>, key?: string) =>
  inject('POST', '/v1/support/tickets', token, payload, key === undefined ? {} : { 'idempotency-key': key });

const ticketCount = async () =>
  Number(
    (
      await world.testApp.services.db
        .selectFrom('support_tickets')
        .select((eb) => eb.fn.countAll<string>().as('count'))
        .executeTakeFirstOrThrow()
    ).count,
  );

const auditActions = async (ticketId: string) =>
  (
    await world.testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_id', 'old_value', 'new_value'])
      .where('resource', '=', `support_ticket:${ticketId}`)
      .orderBy('id')
      .execute()
  ).map((row) => row.action);

async function deliveredOrder(): Promise<string> {
  const { owner } = world.actors;
  const order = (await placeOrder(world, customer.accessToken)).json();
  const accepted = (
    await act(world, order.id, 'accept', owner.accessToken, { preparationMinutes: 15 })
  ).json();
  await act(world, order.id, 'prepare', owner.accessToken);
  await act(world, order.id, 'ready', owner.accessToken);
  await act(world, order.id, 'claim', world.driver.accessToken);
  await act(world, order.id, 'pickup', world.driver.accessToken, { pickupCode: accepted.pickupCode });
  const delivered = await act(world, order.id, 'deliver', world.driver.accessToken, {
    deliveryPin: order.deliveryPin,
  });
  expect(delivered.json().status).toBe('DELIVERED');
  return order.id;
}

describe('support tickets: open, read, write', () => {
  let ticketId: string;

  it('a customer opens a ticket; the subject and body are encrypted at rest; priority and SLA come from the category', async () => {
    const before = Date.now();
    const opened = await openTicket(customer.accessToken, {
      category: 'payment',
      subject: 'Paiement débité deux fois',
      body: 'Mon compte MoMo a été débité deux fois pour la même commande.',
    });
    expect(opened.statusCode, opened.body).toBe(201);
    const ticket = opened.json();
    ticketId = ticket.id;
    expect(opened.headers.location).toBe(`/v1/support/tickets/${ticketId}`);
    expect(ticket).toMatchObject({
      category: 'payment',
      subject: 'Paiement débité deux fois',
      status: 'open',
      priority: 'high',
      openerId: customer.userId,
      openerRole: 'customer',
      order: null,
    });
    // SUPPORT_SLA_HIGH_MINUTES: 240 by default.
    const due = new Date(ticket.slaDueAt).getTime();
    expect(due).toBeGreaterThanOrEqual(before + 240 * 60_000);
    expect(due).toBeLessThanOrEqual(Date.now() + 240 * 60_000);
    expect(ticket.messages).toEqual([
      expect.objectContaining({
        from: 'opener',
        internal: false,
        body: expect.stringContaining('débité deux fois'),
      }),
    ]);
    const row = await world.testApp.services.db
      .selectFrom('support_tickets')
      .select('subject')
      .where('id', '=', ticketId)
      .executeTakeFirstOrThrow();
    expect(row.subject).toMatch(/^pii1\./);
    const message = await world.testApp.services.db
      .selectFrom('support_messages')
      .select('body')
      .where('ticket_id', '=', ticketId)
      .executeTakeFirstOrThrow();
    expect(message.body).toMatch(/^pii1\./);
    expect(message.body).not.toContain('MoMo');
  });

  it('the opener reads it and writes on it; another customer gets 404 for both', async () => {
    const read = await inject('GET', `/v1/support/tickets/${ticketId}`, customer.accessToken);
    expect(read.statusCode).toBe(200);
    expect(read.json().id).toBe(ticketId);
    const written = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, customer.accessToken, {
      body: 'Voici la référence : MP241205.1234.',
    });
    expect(written.statusCode, written.body).toBe(201);
    expect(written.json()).toMatchObject({ from: 'opener', internal: false });

    const foreign = await inject('GET', `/v1/support/tickets/${ticketId}`, stranger.accessToken);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json().code).toBe('ticket_not_found');
    const foreignWrite = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      stranger.accessToken,
      {
        body: 'intrus',
      },
    );
    expect(foreignWrite.statusCode).toBe(404);
    const messages = await world.testApp.services.support.repository.messages(ticketId, true);
    expect(messages).toHaveLength(2);
  });

  it('staff see internal notes; the opener does not, and cannot write one', async () => {
    const note = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, staff.accessToken, {
      body: 'Vérifier la transaction chez MTN.',
      internal: true,
    });
    expect(note.statusCode, note.body).toBe(201);
    const reply = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, staff.accessToken, {
      body: 'Nous vérifions auprès de MTN.',
    });
    expect(reply.statusCode).toBe(201);

    const asStaff = (await inject('GET', `/v1/support/tickets/${ticketId}`, staff.accessToken)).json();
    expect(asStaff.messages.map((message: { internal: boolean }) => message.internal)).toEqual([
      false,
      false,
      true,
      false,
    ]);
    const asOpener = (await inject('GET', `/v1/support/tickets/${ticketId}`, customer.accessToken)).json();
    expect(asOpener.messages).toHaveLength(3);
    expect(JSON.stringify(asOpener)).not.toContain('Vérifier la transaction');

    const sneaky = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, customer.accessToken, {
      body: 'note',
      internal: true,
    });
    expect(sneaky.statusCode).toBe(403);
    expect(sneaky.json().code).toBe('internal_note_staff_only');
  });

  it("lists the caller's own tickets in cursor pages", async () => {
    const second = (
      await openTicket(customer.accessToken, { category: 'account', subject: 'Compte', body: 'Aide' })
    ).json();
    const first = await inject('GET', '/v1/support/tickets?limit=1', customer.accessToken);
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((item: { id: string }) => item.id)).toEqual([second.id]);
    const next = await inject(
      'GET',
      `/v1/support/tickets?limit=1&cursor=${first.json().nextCursor}`,
      customer.accessToken,
    );
    expect(next.json().items.map((item: { id: string }) => item.id)).toEqual([ticketId]);
    const theirs = await inject('GET', '/v1/support/tickets', stranger.accessToken);
    expect(theirs.json().items.every((item: { openerId: string }) => item.openerId === stranger.userId)).toBe(
      true,
    );
    const bad = await inject('GET', '/v1/support/tickets?cursor=not-a-cursor', customer.accessToken);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_cursor');
  });
});

describe('support tickets: orders and disputes', () => {
  it("refuses a ticket on someone else's order as no order (404), storing nothing", async () => {
    const order = (await placeOrder(world, customer.accessToken)).json();
    const before = await ticketCount();
    const refused = await openTicket(stranger.accessToken, {
      category: 'order_problem',
      subject: 'Commande',
      body: 'Pas la mienne',
      orderId: order.id,
    });
    expect(refused.statusCode).toBe(404);
    expect(refused.json().code).toBe('order_not_found');
    expect(await ticketCount()).toBe(before);
    // The order's driver-to-be and the restaurant owner are parties; the owner may open one.
    const owner = await openTicket(world.actors.owner.accessToken, {
      category: 'order_problem',
      subject: 'Client injoignable',
      body: 'Le client ne répond pas.',
      orderId: order.id,
    });
    expect(owner.statusCode, owner.body).toBe(201);
    // The owner is also a customer; about their restaurant's order they write as its owner.
    expect(owner.json().openerRole).toBe('restaurant_owner');
  });

  it('an order-problem ticket on a delivered order opens the dispute through orders; support resolves it with the existing refund', async () => {
    const orderId = await deliveredOrder();
    const opened = await openTicket(customer.accessToken, {
      category: 'order_problem',
      subject: 'Plat froid',
      body: 'Le ndolé est arrivé froid.',
      orderId,
    });
    expect(opened.statusCode, opened.body).toBe(201);
    // order_problem is high; the order passes the (test) high-value threshold: urgent.
    expect(opened.json()).toMatchObject({
      priority: 'urgent',
      order: { status: 'DELIVERED', dispute: 'none' },
    });
    const ticketId = opened.json().id;

    const byStaff = await inject('POST', `/v1/support/tickets/${ticketId}/dispute`, staff.accessToken, {
      reason: 'x',
    });
    expect(byStaff.statusCode).toBe(403);
    const disputed = await inject('POST', `/v1/support/tickets/${ticketId}/dispute`, customer.accessToken, {
      reason: 'Plat froid à la livraison',
    });
    expect(disputed.statusCode, disputed.body).toBe(200);
    expect(disputed.json().order).toMatchObject({ status: 'DISPUTED', dispute: 'open' });
    const again = await inject('POST', `/v1/support/tickets/${ticketId}/dispute`, customer.accessToken, {
      reason: 'encore',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('dispute_refused');

    const resolved = await act(world, orderId, 'resolve', staff.accessToken, {
      refundMinor: 1000,
      note: 'Geste commercial',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const view = (await inject('GET', `/v1/support/tickets/${ticketId}`, customer.accessToken)).json();
    expect(view.order).toEqual({ status: 'RESOLVED', dispute: 'resolved', refundMinor: 1000 });
    expect(await auditActions(ticketId)).toContain('support.dispute_opened');
  });

  it('refuses the dispute on a ticket that is not about an order problem', async () => {
    const ticket = (
      await openTicket(customer.accessToken, { category: 'other', subject: 'Autre', body: 'Question' })
    ).json();
    const refused = await inject('POST', `/v1/support/tickets/${ticket.id}/dispute`, customer.accessToken, {
      reason: 'x',
    });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('dispute_not_applicable');
  });
});

describe('support tickets: idempotent creation and bad input', () => {
  it('the same key and body answer the same ticket once; another body with the key is 409', async () => {
    const key = idempotencyKey();
    const body = { category: 'delivery', subject: 'Livreur perdu', body: 'Il ne trouve pas la maison.' };
    const before = await ticketCount();
    const first = await openTicket(customer.accessToken, body, key);
    const second = await openTicket(customer.accessToken, body, key);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotent-replayed']).toBe('true');
    expect(second.json().id).toBe(first.json().id);
    expect(await ticketCount()).toBe(before + 1);
    const other = await openTicket(customer.accessToken, { ...body, subject: 'Autre chose' }, key);
    expect(other.statusCode).toBe(409);
    expect(other.json().code).toBe('idempotency_key_reused');
    expect(await ticketCount()).toBe(before + 1);
  });

  it('a retry after a crash (the key taken over) finds the ticket its first attempt wrote', async () => {
    // The service is idempotent by the id the key gives: opening twice with one id stores one ticket.
    const caller = {
      userId: customer.userId,
      roles: customer.roles,
      permissions: new Set(['PROFILE_MANAGEMENT'] as const),
      actor: { kind: 'user' as const, userId: customer.userId },
    };
    const id = '0e3c6f0a-6a56-5d6e-9b1a-3f1f6f0b2c11';
    const input = { category: 'other' as const, subject: 'Retry', body: 'Once' };
    const before = await ticketCount();
    const first = await world.testApp.services.support.open(caller, input, id);
    const second = await world.testApp.services.support.open(caller, input, id);
    expect(second.id).toBe(first.id);
    expect(second.messages).toHaveLength(1);
    expect(await ticketCount()).toBe(before + 1);
  });

  it.each([
    ['an empty subject', { category: 'other', subject: '', body: 'x' }, 400, 'validation_failed'],
    ['a blank subject', { category: 'other', subject: '   ', body: 'x' }, 400, 'text_blank'],
    [
      'a subject too long',
      { category: 'other', subject: 's'.repeat(201), body: 'x' },
      400,
      'validation_failed',
    ],
    [
      'a body too long',
      { category: 'other', subject: 's', body: 'b'.repeat(5_001) },
      400,
      'validation_failed',
    ],
    ['an unknown category', { category: 'complaint', subject: 's', body: 'b' }, 400, 'validation_failed'],
    [
      'a bad order uuid',
      { category: 'order_problem', subject: 's', body: 'b', orderId: 'nope' },
      400,
      'validation_failed',
    ],
    ['a NUL in the body', { category: 'other', subject: 's', body: 'a\u0000b' }, 400, 'invalid_characters'],
    [
      'an unknown field',
      { category: 'other', subject: 's', body: 'b', urgent: true },
      400,
      'validation_failed',
    ],
    [
      'an attachment that is no file',
      { category: 'other', subject: 's', body: 'b', attachments: ['7d5e2c7a-0d43-4b1e-9a53-1d2b8d1d1a10'] },
      422,
      'attachment_not_found',
    ],
  ])('refuses %s with a clear 4xx and stores nothing', async (_name, payload, status, code) => {
    const before = await ticketCount();
    const refused = await openTicket(customer.accessToken, payload);
    expect(refused.statusCode, refused.body).toBe(status);
    expect(refused.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(refused.json().code).toBe(code);
    expect(await ticketCount()).toBe(before);
  });

  it('refuses a bad ticket id (400), a support agent opening a ticket (403) and a guest (401)', async () => {
    expect((await inject('GET', '/v1/support/tickets/not-a-uuid', customer.accessToken)).statusCode).toBe(
      400,
    );
    const agent = await openTicket(staff.accessToken, { category: 'other', subject: 's', body: 'b' });
    expect(agent.statusCode).toBe(403);
    const anonymous = await world.testApp.app.inject({
      method: 'POST',
      url: '/v1/support/tickets',
      payload: { category: 'other', subject: 's', body: 'b' },
    });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('support tickets: workflow and staff queue', () => {
  it('orders the staff queue by SLA due time; filters by priority; customers may not see it', async () => {
    const opener = await createUser(world.testApp, { roles: ['driver'] });
    const low = (
      await openTicket(opener.accessToken, { category: 'other', subject: 'low', body: 'b' })
    ).json();
    const high = (
      await openTicket(opener.accessToken, { category: 'payment', subject: 'high', body: 'b' })
    ).json();
    const normal = (
      await openTicket(opener.accessToken, { category: 'account', subject: 'normal', body: 'b' })
    ).json();
    expect([low.priority, high.priority, normal.priority]).toEqual(['low', 'high', 'normal']);
    expect(low.openerRole).toBe('driver');
    const queue = await inject('GET', '/v1/admin/support/tickets?limit=50', staff.accessToken);
    expect(queue.statusCode).toBe(200);
    const items: { id: string; slaDueAt: string }[] = queue.json().items;
    const dues = items.map((item) => new Date(item.slaDueAt).getTime());
    expect(dues).toEqual([...dues].sort((a, b) => a - b));
    const mine = items.map((item) => item.id).filter((id) => [low.id, high.id, normal.id].includes(id));
    expect(mine).toEqual([high.id, normal.id, low.id]);
    const lows = (await inject('GET', '/v1/admin/support/tickets?priority=low', staff.accessToken)).json()
      .items;
    expect(lows.every((item: { priority: string }) => item.priority === 'low')).toBe(true);
    expect((await inject('GET', '/v1/admin/support/tickets', customer.accessToken)).statusCode).toBe(403);
    expect(
      (await inject('GET', '/v1/admin/support/tickets?priority=huge', staff.accessToken)).statusCode,
    ).toBe(400);
  });

  it('assigns, escalates and moves the status; every change is audited and the opener is told', async () => {
    const ticket = (
      await openTicket(customer.accessToken, { category: 'account', subject: 'Mot de passe', body: 'b' })
    ).json();
    const heard: string[] = [];
    const unsubscribe = await world.testApp.services.realtime.bus.subscribe(
      `user:${customer.userId}`,
      (message) => {
        if ((message.data as { ticketId?: string }).ticketId === ticket.id) heard.push(message.type);
      },
    );

    const notAgent = await inject(
      'POST',
      `/v1/admin/support/tickets/${ticket.id}/assign`,
      staff.accessToken,
      {
        assigneeId: stranger.userId,
      },
    );
    expect(notAgent.statusCode).toBe(422);
    expect(notAgent.json().code).toBe('assignee_not_agent');
    const assigned = await inject(
      'POST',
      `/v1/admin/support/tickets/${ticket.id}/assign`,
      staff.accessToken,
      {
        assigneeId: staff.userId,
      },
    );
    expect(assigned.statusCode, assigned.body).toBe(200);
    expect(assigned.json().assigneeId).toBe(staff.userId);
    const byAssignee = (
      await inject('GET', `/v1/admin/support/tickets?assignee=${staff.userId}`, staff.accessToken)
    ).json();
    expect(byAssignee.items.map((item: { id: string }) => item.id)).toContain(ticket.id);

    const escalated = await inject(
      'POST',
      `/v1/admin/support/tickets/${ticket.id}/escalate`,
      staff.accessToken,
      {},
    );
    expect(escalated.json()).toMatchObject({ priority: 'high', escalations: 1 });
    expect(new Date(escalated.json().slaDueAt).getTime()).toBeLessThan(new Date(ticket.slaDueAt).getTime());

    const pending = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, staff.accessToken, {
      status: 'pending',
    });
    expect(pending.json().status).toBe('pending');
    // The opener's answer puts a pending ticket back to open.
    await inject('POST', `/v1/support/tickets/${ticket.id}/messages`, customer.accessToken, {
      body: 'Voilà.',
    });
    expect(
      (await inject('GET', `/v1/support/tickets/${ticket.id}`, customer.accessToken)).json().status,
    ).toBe('open');
    // The opener may not resolve it.
    const self = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, customer.accessToken, {
      status: 'resolved',
    });
    expect(self.statusCode).toBe(409);
    expect(self.json().code).toBe('status_transition_not_allowed');
    const resolved = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, staff.accessToken, {
      status: 'resolved',
    });
    expect(resolved.json()).toMatchObject({ status: 'resolved', resolvedAt: expect.any(String) });
    const closed = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, customer.accessToken, {
      status: 'closed',
    });
    expect(closed.json().status).toBe('closed');
    const late = await inject('POST', `/v1/support/tickets/${ticket.id}/messages`, customer.accessToken, {
      body: 'encore',
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('ticket_not_writable');

    expect(await auditActions(ticket.id)).toEqual([
      'support.ticket_opened',
      'support.ticket_assigned',
      'support.ticket_escalated',
      'support.status_changed',
      'support.message_added',
      'support.status_changed',
      'support.status_changed',
    ]);
    await expect.poll(() => heard.length).toBeGreaterThanOrEqual(5);
    expect(heard).toEqual(
      expect.arrayContaining([
        'support.ticket_assigned',
        'support.ticket_escalated',
        'support.status_changed',
      ]),
    );
    await unsubscribe();
  });

  it('reopens within SUPPORT_REOPEN_DAYS of the resolution, not after', async () => {
    const ticket = (
      await openTicket(customer.accessToken, { category: 'other', subject: 'Réouvrir', body: 'b' })
    ).json();
    await inject('POST', `/v1/support/tickets/${ticket.id}/status`, staff.accessToken, {
      status: 'resolved',
    });
    const reopened = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, customer.accessToken, {
      status: 'open',
    });
    expect(reopened.statusCode, reopened.body).toBe(200);
    expect(reopened.json()).toMatchObject({ status: 'open', resolvedAt: null });
    expect(await auditActions(ticket.id)).toContain('support.ticket_reopened');

    await inject('POST', `/v1/support/tickets/${ticket.id}/status`, staff.accessToken, {
      status: 'resolved',
    });
    // Eight days pass (the window is seven).
    await world.testApp.services.db
      .updateTable('support_tickets')
      .set({ resolved_at: new Date(Date.now() - 8 * 86_400_000) })
      .where('id', '=', ticket.id)
      .execute();
    const late = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, customer.accessToken, {
      status: 'open',
    });
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('reopen_window_closed');
    expect(
      (await inject('GET', `/v1/support/tickets/${ticket.id}`, customer.accessToken)).json().status,
    ).toBe('resolved');
  });
});

describe('support tickets: personal data', () => {
  it('exports the opener’s tickets without internal notes, and erasure removes every body and subject', async () => {
    const person = await createUser(world.testApp, { roles: ['customer'] });
    const ticket = (
      await openTicket(person.accessToken, {
        category: 'account',
        subject: 'Mon numéro',
        body: 'Je suis au 699 00 00 00',
      })
    ).json();
    await inject('POST', `/v1/support/tickets/${ticket.id}/messages`, staff.accessToken, {
      body: 'Note interne',
      internal: true,
    });
    const hook = world.testApp.services.platform.personalData.get('support')!;
    const contacts = { phone: person.phone, email: null };
    const exported = (await hook.export!(person.userId, contacts)) as {
      tickets: { subject: string; messages: { body: string }[] }[];
    };
    expect(exported.tickets).toHaveLength(1);
    expect(exported.tickets[0]!.subject).toBe('Mon numéro');
    expect(exported.tickets[0]!.messages.map((message) => message.body)).toEqual(['Je suis au 699 00 00 00']);

    // Identity's erasure (DELETE /v1/me) walks every context's hook, support's among them.
    const erased = await world.testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me',
      headers: authHeader(person.accessToken),
      payload: { password: person.password },
    });
    expect(erased.statusCode, erased.body).toBeLessThan(300);
    // Idempotent: nothing is left to erase.
    expect(await hook.erase(person.userId, contacts)).toEqual({
      ticketsErased: 0,
      messagesErased: 0,
      remedyNotesErased: 0,
    });
    const rows = await world.testApp.services.db
      .selectFrom('support_messages')
      .select('body')
      .where('ticket_id', '=', ticket.id)
      .execute();
    expect(rows.map((row) => row.body)).toEqual([null, null]);
    const view = (await inject('GET', `/v1/support/tickets/${ticket.id}`, staff.accessToken)).json();
    expect(view.subject).toBeNull();
    expect(view.messages.every((message: { body: string | null }) => message.body === null)).toBe(true);
  });
});
