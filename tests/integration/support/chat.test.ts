import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { connectWs, type WsClient } from '../../helpers/ws-client.js';

/**
 * Live chat on a ticket: two app instances on one database and one Redis prefix; the customer is
 * connected to instance A, the agent to instance B, so every chat message crosses Redis pub/sub.
 */
const shared = {
  REDIS_KEY_PREFIX: `sc${randomBytes(3).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
};
let first: TestApp;
let second: TestApp;
let baseA: string;
let baseB: string;
let customer: CreatedUser;
let stranger: CreatedUser;
let agent: CreatedUser;
let ticketId: string;
const sockets: WsClient[] = [];

async function connect(base: string, path: string, token: string, extra: Record<string, string> = {}) {
  const client = await connectWs(base, path, { access_token: token, ...extra });
  sockets.push(client);
  return client;
}

const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown, headers = {}) =>
  first.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const messageRows = () =>
  first.services.db
    .selectFrom('support_messages')
    .select(['id', 'body', 'author_id'])
    .where('ticket_id', '=', ticketId)
    .orderBy('position')
    .execute();

beforeAll(async () => {
  first = await createTestApp({ env: shared });
  second = await createTestApp({ database: first.database, env: shared });
  baseA = (await first.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  baseB = (await second.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  [customer, stranger, agent] = await Promise.all([
    createUser(first, { roles: ['customer'] }),
    createUser(first, { roles: ['customer'] }),
    createUser(first, { roles: ['support'] }),
  ]);
  // A supervisor sees every ticket; plain agents only theirs (assignment.test.ts).
  await first.services.support.agents.configure(agent.userId, { supervisor: true }, new Date());
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category: 'delivery',
    subject: 'Livreur introuvable',
    body: 'Le livreur ne répond pas.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  ticketId = opened.json().id;
  const assigned = await inject('POST', `/v1/admin/support/tickets/${ticketId}/assign`, agent.accessToken, {
    assigneeId: agent.userId,
  });
  expect(assigned.statusCode, assigned.body).toBe(200);
}, 120_000);

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await second?.close();
  await first?.close();
});

const chatOf =
  (type: string, predicate: (data: Record<string, unknown>) => boolean = () => true) =>
  (message: Record<string, unknown>) =>
    message.type === type &&
    (message.data as Record<string, unknown> | undefined)?.ticketId === ticketId &&
    predicate(message.data as Record<string, unknown>);

describe('live chat between a customer and the assigned agent, across two instances', () => {
  let customerSocket: WsClient;
  let agentSocket: WsClient;
  let lastSeen: string;

  it('a customer message over /ws/customer is stored (encrypted) through the service and reaches the agent on /ws/support with its text', async () => {
    customerSocket = await connect(baseA, '/ws/customer', customer.accessToken);
    agentSocket = await connect(baseB, '/ws/support', agent.accessToken);
    const ack = await customerSocket.request('support-message', {
      ticketId,
      body: 'Toujours rien, 20 minutes.',
    });
    expect(ack.type, JSON.stringify(ack)).toBe('support-message-ack');
    const written = ack.message as Record<string, unknown>;
    expect(written).toMatchObject({
      from: 'opener',
      authorId: customer.userId,
      body: 'Toujours rien, 20 minutes.',
    });
    const heard = await agentSocket.next(
      chatOf('support.message_added', (data) => data.messageId === written.id),
    );
    expect(heard.data).toMatchObject({
      from: 'opener',
      body: 'Toujours rien, 20 minutes.',
      authorId: customer.userId,
    });
    const rows = await messageRows();
    expect(rows.map((row) => row.id)).toContain(written.id);
    expect(rows.find((row) => row.id === written.id)!.body).toMatch(/^pii1\./);
    const audit = await first.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.message_added')
      .execute();
    expect(audit.length).toBeGreaterThanOrEqual(1);
  });

  it('typing reaches the other side, at most once per interval; the agent’s reply reaches the customer', async () => {
    const typed = await agentSocket.request('support-typing', { ticketId });
    expect(typed).toMatchObject({ type: 'support-typing-ack', sent: true });
    const again = await agentSocket.request('support-typing', { ticketId });
    expect(again).toMatchObject({ type: 'support-typing-ack', sent: false });
    const heard = await customerSocket.next(chatOf('support.typing'));
    expect(heard.data).toMatchObject({ from: 'staff', userId: agent.userId });
    const reply = await agentSocket.request('support-message', {
      ticketId,
      body: 'Je l’appelle tout de suite.',
      clientMessageId: randomUUID(),
    });
    expect(reply.type, JSON.stringify(reply)).toBe('support-message-ack');
    const replyId = (reply.message as Record<string, unknown>).id as string;
    const received = await customerSocket.next(
      chatOf('support.message_added', (data) => data.messageId === replyId),
    );
    expect(received.data).toMatchObject({
      from: 'staff',
      body: 'Je l’appelle tout de suite.',
      authorId: agent.userId,
    });
    lastSeen = replyId;
  });

  it('a read marker moves forward only, reaches the other side and shows on the ticket', async () => {
    const read = await customerSocket.request('support-read', { ticketId, messageId: lastSeen });
    expect(read).toMatchObject({ type: 'support-read-ack', side: 'opener', readUpTo: lastSeen });
    const heard = await agentSocket.next(chatOf('support.read', (data) => data.messageId === lastSeen));
    expect(heard.data).toMatchObject({ from: 'opener' });
    const rows = await messageRows();
    const older = rows[0]!.id;
    const backwards = await inject('POST', `/v1/support/tickets/${ticketId}/read`, customer.accessToken, {
      messageId: older,
    });
    expect(backwards.statusCode, backwards.body).toBe(200);
    expect(backwards.json()).toMatchObject({ side: 'opener', readUpTo: lastSeen });
    const ticket = await inject('GET', `/v1/support/tickets/${ticketId}`, customer.accessToken);
    expect(ticket.json().readUpTo).toEqual({ opener: lastSeen, staff: null });
  });

  it('a chat message retried with the same clientMessageId is written once, and matches a REST retry with that Idempotency-Key', async () => {
    const clientMessageId = randomUUID();
    const before = (await messageRows()).length;
    const firstAck = await customerSocket.request('support-message', {
      ticketId,
      body: 'Merci',
      clientMessageId,
    });
    const secondAck = await customerSocket.request('support-message', {
      ticketId,
      body: 'Merci',
      clientMessageId,
    });
    expect((secondAck.message as Record<string, unknown>).id).toBe(
      (firstAck.message as Record<string, unknown>).id,
    );
    const overRest = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      customer.accessToken,
      { body: 'Merci' },
      { 'idempotency-key': clientMessageId },
    );
    expect(overRest.statusCode, overRest.body).toBe(201);
    expect(overRest.json().id).toBe((firstAck.message as Record<string, unknown>).id);
    expect((await messageRows()).length).toBe(before + 1);
  });

  it('after a disconnect the customer catches up: by REST (messages since) and by resuming the socket with lastEventId', async () => {
    const cursor = customerSocket.messages.filter((message) => typeof message.cursor === 'string').at(-1)!
      .cursor as string;
    await customerSocket.close();
    const missed = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {
      body: 'Le livreur arrive dans 5 minutes.',
    });
    expect(missed.statusCode).toBe(201);
    const since = await inject(
      'GET',
      `/v1/support/tickets/${ticketId}/messages?after=${lastSeen}`,
      customer.accessToken,
    );
    expect(since.statusCode, since.body).toBe(200);
    const bodies = since.json().items.map((item: { body: string }) => item.body);
    expect(bodies.at(-1)).toBe('Le livreur arrive dans 5 minutes.');
    expect(bodies).not.toContain('Je l’appelle tout de suite.');
    const paged = await inject(
      'GET',
      `/v1/support/tickets/${ticketId}/messages?limit=1`,
      customer.accessToken,
    );
    expect(paged.json().items).toHaveLength(1);
    expect(paged.json().nextAfter).toBe(paged.json().items[0].id);
    const resumed = await connect(baseB, '/ws/customer', customer.accessToken, { lastEventId: cursor });
    const replayed = await resumed.next(
      chatOf('support.message_added', (data) => data.messageId === missed.json().id),
    );
    expect(replayed.data).toMatchObject({ body: 'Le livreur arrive dans 5 minutes.', from: 'staff' });
    customerSocket = resumed;
  });
});

describe('live chat refusals change nothing', () => {
  it('another customer cannot write, type or read on the ticket: 404 as for no ticket, nothing stored', async () => {
    const before = (await messageRows()).length;
    const socket = await connect(baseA, '/ws/customer', stranger.accessToken);
    for (const [type, data] of [
      ['support-message', { ticketId, body: 'intrus' }],
      ['support-typing', { ticketId }],
      ['support-read', { ticketId, messageId: (await messageRows())[0]!.id }],
    ] as const) {
      const answer = await socket.request(type, data);
      expect(answer, type).toMatchObject({ type: 'error', code: 'ticket_not_found', kind: 'not_found' });
    }
    const since = await inject('GET', `/v1/support/tickets/${ticketId}/messages`, stranger.accessToken);
    expect(since.statusCode).toBe(404);
    expect((await messageRows()).length).toBe(before);
  });

  it('bad data: null, NUL, lone surrogate, unknown field, internal note, oversize frame, wrong ids', async () => {
    const before = (await messageRows()).length;
    const socket = await connect(baseA, '/ws/customer', customer.accessToken);
    const cases: [unknown, string][] = [
      [null, 'validation_failed'],
      [{ ticketId, body: null }, 'validation_failed'],
      [{ ticketId, body: 'a\u0000b' }, 'invalid_characters'],
      [{ ticketId, body: 'a\uD800b' }, 'invalid_characters'],
      [{ ticketId, body: '   ' }, 'text_blank'],
      [{ ticketId, body: 'x', internal: true }, 'validation_failed'],
      [{ ticketId: 'not-a-uuid', body: 'x' }, 'validation_failed'],
      [{ ticketId: randomUUID(), body: 'x' }, 'ticket_not_found'],
      [{ ticketId, body: 'x', attachments: [randomUUID()] }, 'attachment_not_found'],
      [{ ticketId, body: 'x', attachments: 'a' }, 'validation_failed'],
    ];
    for (const [data, code] of cases) {
      const answer = await socket.request('support-message', data);
      expect(answer, JSON.stringify(data)).toMatchObject({ type: 'error', code });
    }
    const unknownMessage = await socket.request('support-read', { ticketId, messageId: randomUUID() });
    expect(unknownMessage).toMatchObject({ type: 'error', code: 'message_not_found' });
    // A frame over 1 KiB closes the socket (the transport's limit); longer texts go by REST.
    const closed = new Promise<number>((resolve) => socket.socket.once('close', (code) => resolve(code)));
    socket.socket.send(
      JSON.stringify({ type: 'support-message', id: 'big', data: { ticketId, body: 'x'.repeat(2_000) } }),
    );
    expect(await closed).toBe(1009);
    expect((await messageRows()).length).toBe(before);
    const badAfter = await inject(
      'GET',
      `/v1/support/tickets/${ticketId}/messages?after=${randomUUID()}`,
      customer.accessToken,
    );
    expect(badAfter.statusCode).toBe(404);
    expect(badAfter.json().code).toBe('message_not_found');
    const tooMany = await inject(
      'GET',
      `/v1/support/tickets/${ticketId}/messages?limit=5000`,
      customer.accessToken,
    );
    expect(tooMany.statusCode).toBe(400);
    const badRead = await inject('POST', `/v1/support/tickets/${ticketId}/read`, customer.accessToken, {
      messageId: null,
    });
    expect(badRead.statusCode).toBe(400);
    expect(badRead.headers['content-type']).toContain('application/problem+json');
  });

  it('staff-only internal notes are never in the opener’s messages since; staff see them and the view is audited', async () => {
    const note = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {
      body: 'Client régulier, geste possible.',
      internal: true,
    });
    expect(note.statusCode).toBe(201);
    const opener = await inject('GET', `/v1/support/tickets/${ticketId}/messages`, customer.accessToken);
    expect(opener.json().items.map((item: { id: string }) => item.id)).not.toContain(note.json().id);
    const hidden = await inject('POST', `/v1/support/tickets/${ticketId}/read`, customer.accessToken, {
      messageId: note.json().id,
    });
    expect(hidden.statusCode).toBe(404);
    const staffView = await inject('GET', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken);
    expect(staffView.json().items.map((item: { id: string }) => item.id)).toContain(note.json().id);
    const viewed = await first.services.db
      .selectFrom('audit_logs')
      .select('actor_id')
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.ticket_viewed')
      .execute();
    expect(viewed.map((row) => row.actor_id)).toContain(agent.userId);
  });

  it('a resolved ticket takes no typing from its opener and no chat message', async () => {
    const resolved = await inject('POST', `/v1/support/tickets/${ticketId}/status`, agent.accessToken, {
      status: 'resolved',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    const socket = await connect(baseA, '/ws/customer', customer.accessToken);
    expect(await socket.request('support-typing', { ticketId })).toMatchObject({
      code: 'ticket_not_writable',
    });
    expect(await socket.request('support-message', { ticketId, body: 'encore' })).toMatchObject({
      code: 'ticket_not_writable',
    });
  });
});
