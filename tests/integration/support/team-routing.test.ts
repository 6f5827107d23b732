import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/** Round robin that knows teams (issue #22): a ticket's category maps to a team, taken first. */
let testApp: TestApp;
let customer: CreatedUser;
let admin: CreatedUser;
let finA: CreatedUser;
let finB: CreatedUser;
let rider: CreatedUser;
let general: CreatedUser;

const FINANCE = 'douala-finance';
const RIDERS = 'douala-riders';

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, admin, finA, finB, rider, general] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['admin'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
}, 120_000);
afterAll(async () => testApp?.close());

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
const inject = (method: Method, url: string, token?: string, payload?: unknown, language = 'en') =>
  testApp.app.inject({
    method,
    url,
    headers: { ...(token === undefined ? {} : authHeader(token)), 'accept-language': language },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const db = () => testApp.services.db;
const routeRows = () => db().selectFrom('support_team_routes').selectAll().execute();
const routeAudits = () =>
  db()
    .selectFrom('audit_logs')
    .select(['action', 'resource', 'old_value', 'new_value'])
    .where('action', 'like', 'support.team_route%')
    .orderBy('created_at')
    .execute();

const configure = async (agent: CreatedUser, settings: { team?: string | null; capacity?: number }) => {
  const answer = await inject('PUT', `/v1/admin/support/agents/${agent.userId}`, admin.accessToken, settings);
  expect(answer.statusCode, answer.body).toBe(200);
};
const available = async (agent: CreatedUser, yes = true) => {
  const answer = await inject('POST', '/v1/support/agents/me/availability', agent.accessToken, {
    available: yes,
  });
  expect(answer.statusCode, answer.body).toBe(200);
};
const mapTeam = async (category: string, team: string) => {
  const answer = await inject('PUT', `/v1/admin/support/team-routes/${category}`, admin.accessToken, {
    team,
  });
  expect(answer.statusCode, answer.body).toBe(200);
};
const open = async (category: string, subject = 'Une question') => {
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category,
    subject,
    body: 'Bonjour, une question.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return opened.json() as { id: string; assigneeId: string | null };
};
const assignedAudit = async (ticketId: string) => {
  const row = await db()
    .selectFrom('audit_logs')
    .select(['actor_kind', 'new_value'])
    .where('resource', '=', `support_ticket:${ticketId}`)
    .where('action', '=', 'support.ticket_assigned')
    .executeTakeFirstOrThrow();
  return row as { actor_kind: string; new_value: Record<string, unknown> };
};

/** Each scenario starts from an empty queue, nobody available, no mapping. */
const reset = async () => {
  await sql`UPDATE support_tickets SET status = 'closed', closed_at = now()`.execute(db());
  await sql`UPDATE support_agents SET available_until = NULL, away = false, last_assigned_at = NULL`.execute(
    db(),
  );
  await sql`DELETE FROM support_team_routes`.execute(db());
};

describe('team mappings: admin routes', () => {
  it('only admins read and change them; anonymous 401, agents and customers 403, nothing written', async () => {
    expect((await inject('GET', '/v1/admin/support/team-routes')).statusCode).toBe(401);
    expect(
      (await inject('PUT', '/v1/admin/support/team-routes/payment', undefined, { team: FINANCE })).statusCode,
    ).toBe(401);
    for (const caller of [customer, finA]) {
      expect((await inject('GET', '/v1/admin/support/team-routes', caller.accessToken)).statusCode).toBe(403);
      const put = await inject('PUT', '/v1/admin/support/team-routes/payment', caller.accessToken, {
        team: FINANCE,
      });
      expect(put.statusCode).toBe(403);
      expect(
        (await inject('DELETE', '/v1/admin/support/team-routes/payment', caller.accessToken)).statusCode,
      ).toBe(403);
    }
    expect(await routeRows()).toEqual([]);
    expect(await routeAudits()).toEqual([]);
  });

  it('bad input is a 400 (English and French) that writes nothing; removing no mapping is a 404', async () => {
    const refusals: Array<[string, unknown]> = [
      ['/v1/admin/support/team-routes/refunds', { team: FINANCE }],
      ['/v1/admin/support/team-routes/payment', { team: 'Douala Finance' }],
      ['/v1/admin/support/team-routes/payment', { team: '-finance' }],
      ['/v1/admin/support/team-routes/payment', { team: 'a'.repeat(41) }],
      ['/v1/admin/support/team-routes/payment', { team: null }],
      ['/v1/admin/support/team-routes/payment', {}],
      ['/v1/admin/support/team-routes/payment', { team: FINANCE, other: 1 }],
      ['/v1/admin/support/team-routes/payment?cityId=Douala', { team: FINANCE }],
      ['/v1/admin/support/team-routes/payment?city=douala', { team: FINANCE }],
    ];
    for (const [url, payload] of refusals) {
      const refused = await inject('PUT', url, admin.accessToken, payload);
      expect(refused.statusCode, `${url} ${JSON.stringify(payload)}`).toBe(400);
    }
    const unknownCity = await inject(
      'PUT',
      '/v1/admin/support/team-routes/payment?cityId=atlantis',
      admin.accessToken,
      { team: FINANCE },
    );
    expect(unknownCity.statusCode).toBe(400);
    expect(unknownCity.json()).toMatchObject({
      code: 'team_route_city_unknown',
      detail: 'There is no such city.',
    });
    const unknownCityFr = await inject(
      'PUT',
      '/v1/admin/support/team-routes/payment?cityId=atlantis',
      admin.accessToken,
      { team: FINANCE },
      'fr',
    );
    expect(unknownCityFr.json()).toMatchObject({
      title: 'Ville inconnue',
      detail: 'Cette ville n’existe pas.',
    });
    const missing = await inject('DELETE', '/v1/admin/support/team-routes/payment', admin.accessToken);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('team_route_not_found');
    const missingFr = await inject(
      'DELETE',
      '/v1/admin/support/team-routes/payment',
      admin.accessToken,
      undefined,
      'fr',
    );
    expect(missingFr.json().title).toBe('Correspondance d’équipe introuvable');
    expect(await routeRows()).toEqual([]);
    expect(await routeAudits()).toEqual([]);
  });

  it('an admin maps a category (everywhere, or in a city), changes it, lists and removes it, audited', async () => {
    const first = await inject('PUT', '/v1/admin/support/team-routes/payment', admin.accessToken, {
      team: 'finance',
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ category: 'payment', cityId: null, team: 'finance' });
    await mapTeam('payment', FINANCE);
    const inDouala = await inject(
      'PUT',
      '/v1/admin/support/team-routes/payment?cityId=douala',
      admin.accessToken,
      {
        team: 'douala-night',
      },
    );
    expect(inDouala.statusCode, inDouala.body).toBe(200);
    const listed = await inject('GET', '/v1/admin/support/team-routes', admin.accessToken);
    expect(listed.statusCode).toBe(200);
    expect(listed.json().routes).toMatchObject([
      { category: 'payment', cityId: null, team: FINANCE },
      { category: 'payment', cityId: 'douala', team: 'douala-night' },
    ]);
    const removed = await inject(
      'DELETE',
      '/v1/admin/support/team-routes/payment?cityId=douala',
      admin.accessToken,
    );
    expect(removed.statusCode).toBe(204);
    expect((await routeRows()).map((row) => [row.city_id, row.team])).toEqual([[null, FINANCE]]);
    expect(
      (await routeAudits()).map((row) => [row.action, row.resource, row.old_value, row.new_value]),
    ).toEqual([
      [
        'support.team_route_set',
        'support_team_route:payment',
        null,
        { category: 'payment', cityId: null, team: 'finance' },
      ],
      [
        'support.team_route_set',
        'support_team_route:payment',
        { team: 'finance' },
        { category: 'payment', cityId: null, team: FINANCE },
      ],
      [
        'support.team_route_set',
        'support_team_route:payment:douala',
        null,
        { category: 'payment', cityId: 'douala', team: 'douala-night' },
      ],
      [
        'support.team_route_removed',
        'support_team_route:payment:douala',
        { category: 'payment', cityId: 'douala', team: 'douala-night' },
        null,
      ],
    ]);
  });
});

describe('round robin within the mapped team', () => {
  beforeEach(reset);

  it('a payment ticket goes to the finance agent although another agent was assigned longer ago', async () => {
    await configure(general, { team: null, capacity: 10 });
    await configure(finA, { team: FINANCE, capacity: 10 });
    await Promise.all([available(general), available(finA)]);
    // The finance agent was assigned a moment ago; the other never: without teams, the other's turn.
    await db()
      .updateTable('support_agents')
      .set({ last_assigned_at: new Date() })
      .where('user_id', '=', finA.userId)
      .execute();
    await mapTeam('payment', FINANCE);

    const payment = await open('payment');
    expect(payment.assigneeId).toBe(finA.userId);
    const audit = await assignedAudit(payment.id);
    expect(audit.actor_kind).toBe('system');
    expect(audit.new_value).toEqual({
      assigneeId: finA.userId,
      by: 'round_robin',
      team: FINANCE,
      fallback: false,
    });

    // A category with no team behaves as before: the one assigned longest ago.
    const other = await open('other');
    expect(other.assigneeId).toBe(general.userId);
    expect((await assignedAudit(other.id)).new_value).toEqual({
      assigneeId: general.userId,
      by: 'round_robin',
    });
  });

  it('nobody of the team available: any available agent takes it, audited as a fallback', async () => {
    await configure(general, { team: null, capacity: 10 });
    await configure(finA, { team: FINANCE, capacity: 10 });
    await available(general);
    await available(finA, false); // away
    await mapTeam('payment', FINANCE);

    const payment = await open('payment');
    expect(payment.assigneeId).toBe(general.userId);
    expect((await assignedAudit(payment.id)).new_value).toEqual({
      assigneeId: general.userId,
      by: 'round_robin',
      team: FINANCE,
      fallback: true,
    });
  });

  it('capacity holds within the team: the team full, the next ticket falls back', async () => {
    await configure(general, { team: null, capacity: 10 });
    await configure(finA, { team: FINANCE, capacity: 1 });
    await configure(finB, { team: FINANCE, capacity: 1 });
    await Promise.all([available(general), available(finA), available(finB)]);
    await mapTeam('payment', FINANCE);

    const tickets = [];
    for (let index = 0; index < 3; index += 1) tickets.push(await open('payment', `Paiement ${index}`));
    expect(
      tickets
        .slice(0, 2)
        .map((ticket) => ticket.assigneeId)
        .sort(),
    ).toEqual([finA.userId, finB.userId].sort());
    expect(tickets[2]!.assigneeId).toBe(general.userId);
    expect((await assignedAudit(tickets[2]!.id)).new_value).toMatchObject({ team: FINANCE, fallback: true });
  });

  it('tickets opened at once for two teams never take an agent past capacity', async () => {
    const capacities = new Map([
      [finA.userId, 2],
      [finB.userId, 1],
      [rider.userId, 2],
      [general.userId, 1],
    ]);
    await configure(finA, { team: FINANCE, capacity: 2 });
    await configure(finB, { team: FINANCE, capacity: 1 });
    await configure(rider, { team: RIDERS, capacity: 2 });
    await configure(general, { team: null, capacity: 1 });
    await Promise.all([available(finA), available(finB), available(rider), available(general)]);
    await mapTeam('payment', FINANCE);
    await mapTeam('delivery', RIDERS);

    const categories = [
      'payment',
      'delivery',
      'payment',
      'delivery',
      'payment',
      'delivery',
      'payment',
      'delivery',
    ];
    const tickets = await Promise.all(categories.map((category, index) => open(category, `Ticket ${index}`)));

    const counts = await db()
      .selectFrom('support_tickets')
      .select(['assignee_id', (eb) => eb.fn.countAll<string>().as('count')])
      .where('status', 'in', ['open', 'pending', 'escalated'])
      .where('assignee_id', 'is not', null)
      .groupBy('assignee_id')
      .execute();
    for (const row of counts)
      expect(Number(row.count)).toBeLessThanOrEqual(capacities.get(row.assignee_id!)!);
    // Six places in all for eight tickets: six assigned, two wait in the queue.
    expect(tickets.filter((ticket) => ticket.assigneeId !== null)).toHaveLength(6);
    const teamOf = new Map([
      [finA.userId, FINANCE],
      [finB.userId, FINANCE],
      [rider.userId, RIDERS],
      [general.userId, null],
    ]);
    for (const [index, ticket] of tickets.entries()) {
      if (ticket.assigneeId === null) continue;
      const mapped = categories[index] === 'payment' ? FINANCE : RIDERS;
      const audit = (await assignedAudit(ticket.id)).new_value;
      // In its team, or audited as a fallback (its team was full when it came).
      expect(audit).toMatchObject({ team: mapped, fallback: teamOf.get(ticket.assigneeId) !== mapped });
    }
  });
});
