import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * The reopen rate and CSAT (docs/support.md "Metrics"): the opener rates a resolved ticket with one
 * tap (1-5, once), reopening counts on the ticket, and the figures follow, overall and per agent,
 * through the real routes. Refusals change nothing.
 */
let testApp: TestApp;
let customer: CreatedUser;
let stranger: CreatedUser;
let supervisor: CreatedUser;
let agent: CreatedUser;
const tickets: string[] = [];

const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

async function open(): Promise<string> {
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category: 'account',
    subject: 'Compte',
    body: 'Je ne peux plus me connecter.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const id = opened.json().id as string;
  const assigned = await inject('POST', `/v1/admin/support/tickets/${id}/assign`, supervisor.accessToken, {
    assigneeId: agent.userId,
  });
  expect(assigned.statusCode, assigned.body).toBe(200);
  tickets.push(id);
  return id;
}

async function status(id: string, token: string, to: string) {
  const changed = await inject('POST', `/v1/support/tickets/${id}/status`, token, { status: to });
  expect(changed.statusCode, changed.body).toBe(200);
  return changed.json();
}

const rate = (id: string, token: string, score: unknown) =>
  inject('POST', `/v1/support/tickets/${id}/rating`, token, { score });

async function stored(id: string) {
  return testApp.services.db
    .selectFrom('support_tickets')
    .select(['csat_score', 'reopen_count', 'version'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, stranger, supervisor, agent] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
  await testApp.services.support.agents.configure(supervisor.userId, { supervisor: true }, new Date());
}, 180_000);
afterAll(async () => testApp?.close());

describe('CSAT and reopen rate', () => {
  it('the opener rates a resolved ticket once; the same tap again answers it unchanged; another score is 409', async () => {
    const id = await open();
    await status(id, agent.accessToken, 'resolved');
    const rated = await rate(id, customer.accessToken, 5);
    expect(rated.statusCode, rated.body).toBe(200);
    expect(rated.json().csat).toMatchObject({ score: 5 });
    const version = (await stored(id)).version;
    const again = await rate(id, customer.accessToken, 5);
    expect(again.statusCode).toBe(200);
    expect((await stored(id)).version).toBe(version);
    const other = await rate(id, customer.accessToken, 1);
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'ticket_already_rated', score: 5 });
    expect((await stored(id)).csat_score).toBe(5);
    const audit = await testApp.services.db
      .selectFrom('audit_logs')
      .select(['action', 'new_value'])
      .where('resource', '=', `support_ticket:${id}`)
      .where('action', '=', 'support.ticket_rated')
      .execute();
    expect(audit).toEqual([{ action: 'support.ticket_rated', new_value: { score: 5 } }]);
  });

  it('refuses a rating before resolution, by staff, by another customer and out of range, storing nothing', async () => {
    const id = await open();
    const early = await rate(id, customer.accessToken, 4);
    expect(early.statusCode).toBe(409);
    expect(early.json()).toMatchObject({ code: 'ticket_not_resolved', ticketStatus: 'open' });
    await status(id, agent.accessToken, 'resolved');
    const byStaff = await rate(id, agent.accessToken, 5);
    expect(byStaff.statusCode).toBe(403);
    expect(byStaff.json().code).toBe('rating_opener_only');
    expect((await rate(id, stranger.accessToken, 5)).statusCode).toBe(404);
    for (const score of [0, 6, 4.5, '4', null]) {
      const refused = await rate(id, customer.accessToken, score);
      expect(refused.statusCode, String(score)).toBe(400);
    }
    const extra = await inject('POST', `/v1/support/tickets/${id}/rating`, customer.accessToken, {
      score: 4,
      comment: 'x',
    });
    expect(extra.statusCode).toBe(400);
    expect((await stored(id)).csat_score).toBeNull();
    // Rated 4 now, to count below.
    expect((await rate(id, customer.accessToken, 4)).statusCode).toBe(200);
  });

  it('a reopened ticket counts once reopened; the figures give the reopen rate and CSAT overall and per agent', async () => {
    const id = await open();
    await status(id, agent.accessToken, 'resolved');
    const reopened = await status(id, customer.accessToken, 'open');
    expect(reopened.reopenCount).toBe(1);
    await status(id, agent.accessToken, 'resolved');
    expect((await rate(id, customer.accessToken, 2)).statusCode).toBe(200);
    await open(); // still open: neither resolved nor rated
    const answer = await inject('GET', '/v1/admin/support/metrics', supervisor.accessToken);
    expect(answer.statusCode, answer.body).toBe(200);
    // Three tickets resolved (one of them reopened once), rated 5, 4 and 2.
    const expected = {
      reopen: { resolved: 3, reopened: 1, rate: 0.3333 },
      csat: { count: 3, average: 3.67, satisfiedShare: 0.6667 },
    };
    expect(answer.json().overall).toMatchObject({ opened: 4, ...expected });
    expect(answer.json().agents).toEqual([
      expect.objectContaining({ assigneeId: agent.userId, ...expected }),
    ]);
    const own = await inject('GET', '/v1/admin/support/metrics', agent.accessToken);
    expect(own.json()).toMatchObject({ scope: 'own', overall: expected });
    const text = (await testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/support_tickets_reopened_total\{priority="normal"\} 1/);
    expect(text).toMatch(/support_csat_ratings_total\{score="5"\} 1/);
    expect(text).toMatch(/support_csat_ratings_total\{score="2"\} 1/);
  });
});
