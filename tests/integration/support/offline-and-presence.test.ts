import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { until } from '../payments/helpers.js';
import { connectWs, type WsClient } from '../../helpers/ws-client.js';

/**
 * What the transport's presence brings to support, over two instances on one database and one
 * Redis prefix: a staff reply to an opener connected nowhere goes by notify's fallback (no device
 * here: SMS), and their SMS answer lands in the ticket's thread; an agent connected to
 * /ws/support (on the other instance) is available for round robin unless they said they are
 * away; SLA breaches reach supervisors by push or SMS once, however many instances sweep.
 */
const AUTH_TOKEN = 'support-presence-test-twilio-token';
const PUBLIC_BASE_URL = 'https://api.example.cm';
const shared = {
  REDIS_KEY_PREFIX: `sp${randomBytes(3).toString('hex')}:`,
  ENCRYPTION_KEY: randomBytes(32).toString('hex'),
  JWT_SECRET: randomBytes(24).toString('hex'),
  JWT_REFRESH_SECRET: randomBytes(24).toString('hex'),
  TWILIO_AUTH_TOKEN: AUTH_TOKEN,
  PUBLIC_BASE_URL,
  SUPPORT_FIRST_RESPONSE_LOW_MINUTES: '30',
};
let first: TestApp;
let second: TestApp;
let baseB: string;
let customer: CreatedUser;
let supervisor: CreatedUser;
let admin: CreatedUser;
const sockets: WsClient[] = [];

const inject = (
  method: 'GET' | 'POST',
  url: string,
  token: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  first.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

async function connect(path: string, token: string): Promise<WsClient> {
  const client = await connectWs(baseB, path, { access_token: token });
  sockets.push(client);
  await client.next((message) => message.type === 'ready');
  return client;
}

async function openTicket(subject = 'Question', category = 'other'): Promise<string> {
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category,
    subject,
    body: 'Bonjour, une question sur mon compte.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return opened.json().id as string;
}

const intentsOf = (recipientId: string, kind: string) =>
  first.services.db
    .selectFrom('notification_intents')
    .select(['id', 'source_event_id'])
    .where('recipient_id', '=', recipientId)
    .where('kind', '=', kind)
    .execute();

const outboxSms = async (phone: string) =>
  (
    await first.app.inject({
      method: 'GET',
      url: `/v1/dev/outbox?channel=sms&limit=50&to=${encodeURIComponent(phone)}`,
    })
  ).json().items as { body: string }[];

const listening = (audience: string) => first.services.realtime.bus.listening([audience]);

function signedSms(from: string, body: string) {
  const messageSid = `SM${randomBytes(16).toString('hex')}`;
  const params: Record<string, string> = {
    AccountSid: `AC${'1'.repeat(32)}`,
    From: from,
    To: '+237650000000',
    Body: body,
    MessageSid: messageSid,
  };
  const data = Object.keys(params)
    .sort()
    .reduce((text, key) => text + key + params[key], `${PUBLIC_BASE_URL}/v1/webhooks/twilio/sms`);
  return second.app.inject({
    method: 'POST',
    url: '/v1/webhooks/twilio/sms',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': createHmac('sha1', AUTH_TOKEN).update(data, 'utf8').digest('base64'),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

beforeAll(async () => {
  first = await createTestApp({ env: shared });
  second = await createTestApp({ database: first.database, env: shared });
  await first.app.listen({ host: '127.0.0.1', port: 0 });
  baseB = (await second.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  [customer, supervisor, admin] = await Promise.all([
    createUser(first, { roles: ['customer'] }),
    createUser(first, { roles: ['support'] }),
    createUser(first, { roles: ['admin'] }),
  ]);
  await first.services.support.agents.configure(supervisor.userId, { supervisor: true }, new Date());
}, 120_000);

afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await second?.close();
  await first?.close();
});

describe('a staff reply to an opener who is offline', () => {
  it('is not sent by push or SMS while the opener is connected (on the other instance)', async () => {
    const ticketId = await openTicket();
    const socket = await connect('/ws/customer', customer.accessToken);
    await until(
      () => listening(`user:${customer.userId}`),
      (present) => present[0] === true,
    );
    const reply = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, supervisor.accessToken, {
      body: 'Nous regardons votre compte.',
    });
    expect(reply.statusCode, reply.body).toBe(201);
    await socket.next(
      (message) =>
        message.type === 'support.message_added' &&
        (message.data as { messageId?: string }).messageId === reply.json().id,
    );
    expect(await intentsOf(customer.userId, 'support.reply')).toHaveLength(0);
    await socket.close();
  }, 60_000);

  it('goes by SMS (no device registered) once, a retried reply tells nothing more, and the SMS answer lands in the thread', async () => {
    const ticketId = await openTicket('Remboursement');
    await until(
      () => listening(`user:${customer.userId}`),
      (present) => present[0] === false,
    );
    const key = randomUUID();
    const text = 'Votre remboursement est en cours ; répondez-nous pour confirmer votre numéro MoMo.';
    const reply = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      supervisor.accessToken,
      { body: text },
      { 'idempotency-key': key },
    );
    expect(reply.statusCode, reply.body).toBe(201);
    const sms = await until(
      () => outboxSms(customer.phone),
      (items) => items.some((item) => item.body.includes('remboursement est en cours')),
      20_000,
    );
    expect(sms.find((item) => item.body.includes('remboursement'))!.body).toContain(ticketId.slice(0, 8));
    const retried = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      supervisor.accessToken,
      { body: text },
      { 'idempotency-key': key },
    );
    expect(retried.statusCode).toBe(201);
    const intents = await intentsOf(customer.userId, 'support.reply');
    expect(
      intents.filter((intent) => intent.source_event_id === `support-reply:${reply.json().id}`),
    ).toHaveLength(1);
    // An internal note tells the opener nothing.
    const note = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, supervisor.accessToken, {
      body: 'Vérifier le numéro.',
      internal: true,
    });
    expect(note.statusCode).toBe(201);
    expect(await intentsOf(customer.userId, 'support.reply')).toHaveLength(intents.length);

    // The customer answers the SMS: Twilio posts it to our webhook (the other instance).
    const answered = await signedSms(customer.phone, 'Oui, c’est bien le 670 00 00 00.');
    expect(answered.statusCode, answered.body).toBe(200);
    const thread = await inject('GET', `/v1/support/tickets/${ticketId}`, customer.accessToken);
    const messages = thread.json().messages as { from: string; body: string }[];
    expect(messages.at(-1)).toMatchObject({ from: 'opener', body: 'Oui, c’est bien le 670 00 00 00.' });
  }, 60_000);
});

describe('agent presence from /ws/support', () => {
  it('a connected agent takes new tickets by round robin without declaring availability; disconnected or away, they do not', async () => {
    const agent = await createUser(first, { roles: ['support'] });
    const socket = await connect('/ws/support', agent.accessToken);
    await until(
      () => listening(`agent:${agent.userId}`),
      (present) => present[0] === true,
    );
    const assigned = await openTicket();
    expect((await first.services.support.repository.find(assigned))!.assignee_id).toBe(agent.userId);

    await socket.close();
    await until(
      () => listening(`agent:${agent.userId}`),
      (present) => present[0] === false,
    );
    const unassigned = await openTicket();
    expect((await first.services.support.repository.find(unassigned))!.assignee_id).toBeNull();

    await connect('/ws/support', agent.accessToken);
    await until(
      () => listening(`agent:${agent.userId}`),
      (present) => present[0] === true,
    );
    const away = await inject('POST', '/v1/support/agents/me/availability', agent.accessToken, {
      available: false,
    });
    expect(away.statusCode, away.body).toBe(200);
    expect(away.json()).toMatchObject({ away: true, availableUntil: null });
    const whileAway = await openTicket();
    expect((await first.services.support.repository.find(whileAway))!.assignee_id).toBeNull();
    // Back: connected and not away.
    const back = await inject('POST', '/v1/support/agents/me/availability', agent.accessToken, {
      available: true,
    });
    expect(back.json()).toMatchObject({ away: false });
    const afterBack = await openTicket();
    expect((await first.services.support.repository.find(afterBack))!.assignee_id).toBe(agent.userId);
    // Resolve them so later tests' round robin is not crowded.
    await sql`UPDATE support_tickets SET status = 'resolved', resolved_at = now() WHERE assignee_id = ${agent.userId}`.execute(
      first.services.db,
    );
    await first.services.support.setAvailability(
      {
        userId: agent.userId,
        roles: ['support'],
        permissions: new Set(['TICKET_MANAGEMENT']),
        actor: { kind: 'system' },
      },
      false,
    );
  }, 60_000);
});

describe('SLA breaches by push or SMS', () => {
  it('a first-response breach tells each supervisor and admin once, with two instances sweeping at once', async () => {
    const ticketId = await openTicket('Délai');
    await sql`UPDATE support_tickets SET created_at = created_at - interval '31 minutes',
      first_response_due_at = first_response_due_at - interval '31 minutes' WHERE id = ${ticketId}`.execute(
      first.services.db,
    );
    await Promise.all([
      first.services.support.sweepSla(),
      second.services.support.sweepSla(),
      first.services.support.sweepSla(),
    ]);
    for (const staff of [supervisor, admin]) {
      const intents = (await intentsOf(staff.userId, 'staff.support_first_response_late')).filter((intent) =>
        intent.source_event_id.startsWith(`support-sla:${ticketId}:first_response:`),
      );
      expect(intents).toHaveLength(1);
    }
    const sms = await until(
      () => outboxSms(supervisor.phone),
      (items) => items.some((item) => item.body.includes(ticketId.slice(0, 8))),
      20_000,
    );
    // Ids and priority only: nothing the customer wrote.
    expect(sms.find((item) => item.body.includes(ticketId.slice(0, 8)))!.body).not.toContain('compte');
    const audits = await first.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.sla_breached')
      .execute();
    expect(audits).toHaveLength(1);
    // The customer is no supervisor.
    expect(await intentsOf(customer.userId, 'staff.support_first_response_late')).toHaveLength(0);
  }, 60_000);
});
