import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/** Round-robin assignment among available agents with capacity; escalation to a supervisor. */
let testApp: TestApp;
let customer: CreatedUser;
let first: CreatedUser;
let second: CreatedUser;
let supervisor: CreatedUser;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, first, second, supervisor, admin] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['admin'] }),
  ]);
}, 120_000);
afterAll(async () => testApp?.close());

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const open = async (subject: string) => {
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category: 'other',
    subject,
    body: 'Une question.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return opened.json() as { id: string; assigneeId: string | null; status: string };
};

const agentRows = () => testApp.services.db.selectFrom('support_agents').selectAll().execute();

describe('support agents: supervisors, capacity, availability', () => {
  it('only an admin configures an agent; bad input and non-agents are refused and change nothing', async () => {
    const byAgent = await inject('PUT', `/v1/admin/support/agents/${first.userId}`, first.accessToken, {
      capacity: 1,
    });
    expect(byAgent.statusCode).toBe(403);
    for (const payload of [
      {},
      { capacity: -1 },
      { capacity: 201 },
      { capacity: 1.5 },
      { supervisor: 'yes' },
      { other: 1 },
    ]) {
      const refused = await inject(
        'PUT',
        `/v1/admin/support/agents/${first.userId}`,
        admin.accessToken,
        payload,
      );
      expect(refused.statusCode, JSON.stringify(payload)).toBe(400);
    }
    const notAgent = await inject('PUT', `/v1/admin/support/agents/${customer.userId}`, admin.accessToken, {
      supervisor: true,
    });
    expect(notAgent.statusCode).toBe(422);
    expect(notAgent.json().code).toBe('assignee_not_agent');
    const byCustomer = await inject('POST', '/v1/support/agents/me/availability', customer.accessToken, {
      available: true,
    });
    expect(byCustomer.statusCode).toBe(403);
    expect(await agentRows()).toEqual([]);
  });

  it('an admin sets capacities and a supervisor (audited); agents say they are available', async () => {
    const capped = await inject('PUT', `/v1/admin/support/agents/${first.userId}`, admin.accessToken, {
      capacity: 1,
    });
    expect(capped.statusCode, capped.body).toBe(200);
    expect(capped.json()).toMatchObject({
      userId: first.userId,
      supervisor: false,
      capacity: 1,
      activeTickets: 0,
    });
    await inject('PUT', `/v1/admin/support/agents/${second.userId}`, admin.accessToken, { capacity: 2 });
    const made = await inject('PUT', `/v1/admin/support/agents/${supervisor.userId}`, admin.accessToken, {
      supervisor: true,
    });
    expect(made.json()).toMatchObject({ supervisor: true, capacity: 10 });
    const audits = await testApp.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('resource', '=', `support_agent:${supervisor.userId}`)
      .execute();
    expect(audits.map((row) => row.action)).toEqual(['support.agent_configured']);
    for (const agent of [first, second, supervisor]) {
      const available = await inject('POST', '/v1/support/agents/me/availability', agent.accessToken, {
        available: true,
      });
      expect(available.statusCode, available.body).toBe(200);
      expect(new Date(available.json().availableUntil).getTime()).toBeGreaterThan(Date.now());
    }
  });

  it('new tickets go round robin to available agents within their capacity, never to the supervisor; then wait unassigned', async () => {
    const tickets = [];
    for (let index = 0; index < 4; index += 1) tickets.push(await open(`Question ${index}`));
    const assignees = tickets.map((ticket) => ticket.assigneeId);
    // First: capacity 1; second: capacity 2; the fourth finds nobody.
    expect(assignees.slice(0, 3).sort()).toEqual([first.userId, second.userId, second.userId].sort());
    expect(assignees[0]).not.toBe(assignees[1]);
    expect(assignees[3]).toBeNull();
    expect(assignees).not.toContain(supervisor.userId);
    const assignedAudit = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'actor_kind', 'new_value'])
      .where('resource', '=', `support_ticket:${tickets[0]!.id}`)
      .where('action', '=', 'support.ticket_assigned')
      .executeTakeFirstOrThrow();
    expect(assignedAudit.actor_kind).toBe('system');

    // The first agent resolves theirs: room again for one.
    const ofFirst = tickets.find((ticket) => ticket.assigneeId === first.userId)!;
    const resolved = await inject('POST', `/v1/support/tickets/${ofFirst.id}/status`, first.accessToken, {
      status: 'resolved',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    expect((await open('Encore une')).assigneeId).toBe(first.userId);

    // An agent who says they are away gets nothing new.
    await inject('POST', '/v1/support/agents/me/availability', first.accessToken, { available: false });
    const ofSecond = tickets.find((ticket) => ticket.assigneeId === second.userId)!;
    const freed = await inject('POST', `/v1/support/tickets/${ofSecond.id}/status`, second.accessToken, {
      status: 'resolved',
    });
    expect(freed.statusCode, freed.body).toBe(200);
    expect((await open('Et encore')).assigneeId).toBe(second.userId);
  });

  it('tickets opened at once are spread without exceeding anyone’s capacity', async () => {
    await inject('PUT', `/v1/admin/support/agents/${second.userId}`, admin.accessToken, { capacity: 4 });
    const before = (await testApp.services.support.agents.settings(second.userId)).activeTickets;
    const opened = await Promise.all(Array.from({ length: 6 }, (_, index) => open(`Vague ${index}`)));
    const toSecond = opened.filter((ticket) => ticket.assigneeId === second.userId).length;
    expect(before + toSecond).toBe(4);
    expect((await testApp.services.support.agents.settings(second.userId)).activeTickets).toBe(4);
  });

  it('escalation: status escalated, one priority higher, handed to an available supervisor; only a supervisor moves it on', async () => {
    const ticket = await open('À escalader');
    const handed = await inject('POST', `/v1/admin/support/tickets/${ticket.id}/assign`, admin.accessToken, {
      assigneeId: second.userId,
    });
    expect(handed.statusCode, handed.body).toBe(200);
    const escalated = await inject(
      'POST',
      `/v1/admin/support/tickets/${ticket.id}/escalate`,
      second.accessToken,
      {},
    );
    expect(escalated.statusCode, escalated.body).toBe(200);
    expect(escalated.json()).toMatchObject({
      status: 'escalated',
      priority: 'normal',
      escalations: 1,
      assigneeId: supervisor.userId,
    });
    // The opener still writes on it; the agent no longer holds it; the supervisor moves it on.
    const written = await inject('POST', `/v1/support/tickets/${ticket.id}/messages`, customer.accessToken, {
      body: 'Merci.',
    });
    expect(written.statusCode, written.body).toBe(201);
    const byAgent = await inject('POST', `/v1/support/tickets/${ticket.id}/status`, second.accessToken, {
      status: 'resolved',
    });
    expect(byAgent.statusCode).toBe(404);
    const queue = await inject('GET', '/v1/admin/support/tickets?status=escalated', supervisor.accessToken);
    expect(queue.json().items.map((item: { id: string }) => item.id)).toEqual([ticket.id]);
    const bySupervisor = await inject(
      'POST',
      `/v1/support/tickets/${ticket.id}/status`,
      supervisor.accessToken,
      {
        status: 'resolved',
      },
    );
    expect(bySupervisor.statusCode, bySupervisor.body).toBe(200);
    expect(bySupervisor.json().status).toBe('resolved');

    // No supervisor available: the agent keeps it, escalated, and may not move it on.
    await inject('POST', '/v1/support/agents/me/availability', supervisor.accessToken, { available: false });
    const kept = await open('Sans superviseur');
    await inject('POST', `/v1/admin/support/tickets/${kept.id}/assign`, admin.accessToken, {
      assigneeId: second.userId,
    });
    const alone = await inject(
      'POST',
      `/v1/admin/support/tickets/${kept.id}/escalate`,
      second.accessToken,
      {},
    );
    expect(alone.json()).toMatchObject({ status: 'escalated', assigneeId: second.userId });
    const refused = await inject('POST', `/v1/support/tickets/${kept.id}/status`, second.accessToken, {
      status: 'resolved',
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('supervisor_required');
    expect((await inject('GET', `/v1/support/tickets/${kept.id}`, customer.accessToken)).json().status).toBe(
      'escalated',
    );
    await inject('POST', '/v1/support/agents/me/availability', supervisor.accessToken, { available: true });
    // An admin is a supervisor too.
    const other = await open('Autre');
    await inject('POST', `/v1/admin/support/tickets/${other.id}/escalate`, admin.accessToken, {});
    const byAdmin = await inject('POST', `/v1/support/tickets/${other.id}/status`, admin.accessToken, {
      status: 'open',
    });
    expect(byAdmin.json().status).toBe('open');
  });

  it('a plain agent sees only the tickets assigned to them; supervisors and admins see all', async () => {
    const ticket = await open('Visibilité');
    const holder = ticket.assigneeId === first.userId ? first : second;
    const other = await createUser(testApp, { roles: ['support'] });
    const foreign = await inject('GET', `/v1/support/tickets/${ticket.id}`, other.accessToken);
    expect(foreign.statusCode).toBe(404);
    const foreignNote = await inject('POST', `/v1/support/tickets/${ticket.id}/messages`, other.accessToken, {
      body: 'note',
      internal: true,
    });
    expect(foreignNote.statusCode).toBe(404);
    const queue = await inject('GET', '/v1/admin/support/tickets?limit=50', other.accessToken);
    expect(queue.statusCode).toBe(200);
    expect(queue.json().items).toEqual([]);
    // Asking for someone else's tickets answers one's own.
    const asked = await inject(
      'GET',
      `/v1/admin/support/tickets?assignee=${holder.userId}`,
      other.accessToken,
    );
    expect(asked.json().items).toEqual([]);
    if (ticket.assigneeId !== null) {
      expect((await inject('GET', `/v1/support/tickets/${ticket.id}`, holder.accessToken)).statusCode).toBe(
        200,
      );
      const own = await inject('GET', '/v1/admin/support/tickets?limit=50', holder.accessToken);
      const ids = own.json().items.map((item: { id: string; assigneeId: string }) => item.assigneeId);
      expect(new Set(ids)).toEqual(new Set([holder.userId]));
    }
    for (const viewer of [supervisor, admin])
      expect((await inject('GET', `/v1/support/tickets/${ticket.id}`, viewer.accessToken)).statusCode).toBe(
        200,
      );
  });
});
