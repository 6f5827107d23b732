import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';
import { connectWs, type WsClient } from '../../helpers/ws-client.js';

/** SLA alerts: the sweep finds first-response and resolution breaches and alerts each once. */
let testApp: TestApp;
let base: string;
let customer: CreatedUser;
let agent: CreatedUser;
let admin: CreatedUser;
const sockets: WsClient[] = [];

beforeAll(async () => {
  testApp = await createTestApp({
    env: { SUPPORT_FIRST_RESPONSE_LOW_MINUTES: '30', SUPPORT_SLA_LOW_MINUTES: '120' },
  });
  base = (await testApp.app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  [customer, agent, admin] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['admin'] }),
  ]);
  // A supervisor sees every ticket; plain agents only theirs (assignment.test.ts).
  await testApp.services.support.agents.configure(agent.userId, { supervisor: true }, new Date());
}, 120_000);
afterAll(async () => {
  await Promise.all(sockets.map((socket) => socket.close()));
  await testApp?.close();
});

const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

async function openLowTicket(): Promise<string> {
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category: 'other',
    subject: 'Question',
    body: 'Une question.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return opened.json().id;
}

/** Moves a ticket's clocks into the past, as if it had been opened `minutes` ago. */
async function age(ticketId: string, minutes: number) {
  await sql`UPDATE support_tickets SET created_at = created_at - make_interval(mins => ${minutes}),
    sla_due_at = sla_due_at - make_interval(mins => ${minutes}),
    first_response_due_at = first_response_due_at - make_interval(mins => ${minutes})
    WHERE id = ${ticketId}`.execute(testApp.services.db);
}

const alertsOf = async (ticketId: string) =>
  (
    await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'new_value'])
      .where('resource', '=', `support_ticket:${ticketId}`)
      .where('action', '=', 'support.sla_breached')
      .orderBy('id')
      .execute()
  ).map((row) => (row.new_value as { breach: string }).breach);

describe('SLA alerts', () => {
  it('a ticket opened has its first-response due time from its priority', async () => {
    const id = await openLowTicket();
    const row = await testApp.services.db
      .selectFrom('support_tickets')
      .select(['created_at', 'first_response_due_at', 'sla_due_at'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(row.first_response_due_at!.getTime() - row.created_at.getTime()).toBe(30 * 60_000);
    expect(row.sla_due_at.getTime() - row.created_at.getTime()).toBe(120 * 60_000);
  });

  it('a ticket without a staff reply past its first-response time alerts support, admins and the assignee once; later its resolution breach too', async () => {
    const supportSocket = await connectWs(base, '/ws/support', { access_token: agent.accessToken });
    const adminSocket = await connectWs(base, '/ws/admin', { access_token: admin.accessToken });
    sockets.push(supportSocket, adminSocket);
    const id = await openLowTicket();
    const assigned = await inject('POST', `/v1/admin/support/tickets/${id}/assign`, agent.accessToken, {
      assigneeId: agent.userId,
    });
    expect(assigned.statusCode).toBe(200);
    await testApp.services.support.sweepSla();
    expect(await alertsOf(id)).toEqual([]);

    await age(id, 31);
    await testApp.services.support.sweepSla();
    await testApp.services.support.sweepSla();
    expect(await alertsOf(id)).toEqual(['first_response']);
    const breach = (message: Record<string, unknown>) =>
      message.type === 'support.sla_breached' && (message.data as { ticketId: string }).ticketId === id;
    const heard = await adminSocket.next(breach);
    expect(heard.data).toMatchObject({ breach: 'first_response', priority: 'low', assigneeId: agent.userId });
    await supportSocket.next(breach);
    // The agent hears it on both audiences of /ws/support (the queue and their own).
    expect(supportSocket.messages.filter(breach).length).toBeGreaterThanOrEqual(1);

    await age(id, 90);
    await testApp.services.support.sweepSla();
    expect(await alertsOf(id)).toEqual(['first_response', 'resolution']);
  });

  it('a staff reply in time stops the first-response clock; an internal note does not; a pending ticket breaches nothing', async () => {
    const answered = await openLowTicket();
    const noted = await openLowTicket();
    const pending = await openLowTicket();
    expect(
      (
        await inject('POST', `/v1/support/tickets/${answered}/messages`, agent.accessToken, {
          body: 'Bonjour',
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await inject('POST', `/v1/support/tickets/${noted}/messages`, agent.accessToken, {
          body: 'note',
          internal: true,
        })
      ).statusCode,
    ).toBe(201);
    expect(
      (
        await inject('POST', `/v1/support/tickets/${pending}/status`, agent.accessToken, {
          status: 'pending',
        })
      ).statusCode,
    ).toBe(200);
    for (const id of [answered, noted, pending]) await age(id, 31);
    await testApp.services.support.sweepSla();
    expect(await alertsOf(answered)).toEqual([]);
    expect(await alertsOf(noted)).toEqual(['first_response']);
    expect(await alertsOf(pending)).toEqual([]);
  });

  it('the sweep is scheduled with the other jobs', () => {
    expect(testApp.services.jobs.schedules().map((schedule) => schedule.name)).toContain('support-sla-sweep');
  });
});
