import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * Support's figures: first response and resolution times and SLA breaches of the tickets opened
 * in a period, overall and per agent (`GET /v1/admin/support/metrics`), and the Prometheus series.
 * The tickets' clocks are set in SQL so the figures are exact.
 */
let testApp: TestApp;
let customer: CreatedUser;
let supervisor: CreatedUser;
let agentA: CreatedUser;
let agentB: CreatedUser;
const ids: string[] = [];

const inject = (method: 'GET' | 'POST', url: string, token: string, payload?: unknown) =>
  testApp.app.inject({
    method,
    url,
    headers: authHeader(token),
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

async function ticket(assignee: CreatedUser) {
  const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
    category: 'account',
    subject: 'Compte',
    body: 'Je ne peux plus me connecter.',
  });
  expect(opened.statusCode, opened.body).toBe(201);
  const id = opened.json().id as string;
  const assigned = await inject('POST', `/v1/admin/support/tickets/${id}/assign`, supervisor.accessToken, {
    assigneeId: assignee.userId,
  });
  expect(assigned.statusCode, assigned.body).toBe(200);
  ids.push(id);
  return id;
}

/** Opened `agoMinutes` ago, first answered after `responseMinutes`, resolved after `resolutionMinutes`. */
async function clocks(
  id: string,
  agoMinutes: number,
  responseMinutes: number | null,
  resolutionMinutes: number | null,
) {
  await sql`UPDATE support_tickets SET
      created_at = now() - make_interval(mins => ${agoMinutes}),
      first_response_due_at = now() - make_interval(mins => ${agoMinutes}) + interval '240 minutes',
      sla_due_at = now() - make_interval(mins => ${agoMinutes}) + interval '1440 minutes',
      first_responded_at = CASE WHEN ${responseMinutes}::int IS NULL THEN NULL
        ELSE now() - make_interval(mins => ${agoMinutes}) + make_interval(mins => ${responseMinutes}::int) END,
      resolved_at = CASE WHEN ${resolutionMinutes}::int IS NULL THEN NULL
        ELSE now() - make_interval(mins => ${agoMinutes}) + make_interval(mins => ${resolutionMinutes}::int) END,
      status = CASE WHEN ${resolutionMinutes}::int IS NULL THEN status ELSE 'resolved' END
    WHERE id = ${id}`.execute(testApp.services.db);
}

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, supervisor, agentA, agentB] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
  await testApp.services.support.agents.configure(supervisor.userId, { supervisor: true }, new Date());
  // Agent A: answered in 10 and 30 minutes, resolved in 2 h and 30 h (the second past its 24 h SLA).
  await clocks(await ticket(agentA), 3_000, 10, 120);
  await clocks(await ticket(agentA), 3_000, 30, 1_800);
  // Agent B: answered after 5 h (past its 4 h first-response time), not resolved, 2 days old.
  await clocks(await ticket(agentB), 2_880, 300, null);
}, 60_000);
afterAll(async () => testApp?.close());

describe('support metrics', () => {
  it('a supervisor sees first response and resolution times and SLA breaches, overall and per agent', async () => {
    const answer = await inject('GET', '/v1/admin/support/metrics', supervisor.accessToken);
    expect(answer.statusCode, answer.body).toBe(200);
    const body = answer.json();
    expect(body.scope).toBe('all');
    expect(body.overall).toEqual({
      opened: 3,
      firstResponse: { count: 3, averageSeconds: 6_800, medianSeconds: 1_800, p90Seconds: 14_760 },
      resolution: { count: 2, averageSeconds: 57_600, medianSeconds: 57_600, p90Seconds: 97_920 },
      // B's late first reply; A's 30 h resolution and B's ticket unresolved after 2 days.
      slaBreaches: { firstResponse: 1, resolution: 2 },
      // Reopen rate and CSAT: tests/integration/support/csat-reopen.test.ts.
      reopen: { resolved: 2, reopened: 0, rate: 0 },
      csat: { count: 0, average: null, satisfiedShare: null },
    });
    const byAgent = new Map(body.agents.map((row: { assigneeId: string }) => [row.assigneeId, row]));
    expect(byAgent.get(agentA.userId)).toMatchObject({
      opened: 2,
      firstResponse: { count: 2, averageSeconds: 1_200 },
      resolution: { count: 2, averageSeconds: 57_600 },
      slaBreaches: { firstResponse: 0, resolution: 1 },
    });
    expect(byAgent.get(agentB.userId)).toMatchObject({
      opened: 1,
      firstResponse: { count: 1, averageSeconds: 18_000 },
      resolution: { count: 0, averageSeconds: null },
      slaBreaches: { firstResponse: 1, resolution: 1 },
    });
  });

  it('a plain agent sees only their own tickets; a customer is refused; a bad period is 400', async () => {
    const own = await inject('GET', '/v1/admin/support/metrics', agentB.accessToken);
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toMatchObject({ scope: 'own', overall: { opened: 1 } });
    expect(own.json().agents.map((row: { assigneeId: string }) => row.assigneeId)).toEqual([agentB.userId]);
    expect((await inject('GET', '/v1/admin/support/metrics', customer.accessToken)).statusCode).toBe(403);
    for (const query of [
      'from=2026-12-06T10:00:00Z&to=2026-12-01T10:00:00Z',
      'from=2026-01-01T00:00:00Z&to=2026-12-01T00:00:00Z',
      'from=yesterday',
      'from=%00',
      'unknown=1',
    ]) {
      const refused = await inject('GET', `/v1/admin/support/metrics?${query}`, supervisor.accessToken);
      expect(refused.statusCode, `${query}: ${refused.body}`).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    // A period without tickets: zeros and nulls.
    const empty = await inject(
      'GET',
      '/v1/admin/support/metrics?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z',
      supervisor.accessToken,
    );
    expect(empty.json()).toMatchObject({
      overall: { opened: 0, firstResponse: { count: 0, averageSeconds: null } },
      agents: [],
    });
  });

  it('Prometheus counts the tickets opened, first replies, resolutions and alerted breaches', async () => {
    const id = await ticket(agentA);
    const reply = await inject('POST', `/v1/support/tickets/${id}/messages`, supervisor.accessToken, {
      body: 'Essayez de réinitialiser votre mot de passe.',
    });
    expect(reply.statusCode).toBe(201);
    const resolved = await inject('POST', `/v1/support/tickets/${id}/status`, supervisor.accessToken, {
      status: 'resolved',
    });
    expect(resolved.statusCode, resolved.body).toBe(200);
    await sql`UPDATE support_tickets SET first_response_due_at = now() - interval '1 minute',
      first_responded_at = NULL WHERE id = ${ids[0]!}`.execute(testApp.services.db);
    await sql`UPDATE support_tickets SET status = 'open' WHERE id = ${ids[0]!}`.execute(testApp.services.db);
    await testApp.services.support.sweepSla();
    const text = (await testApp.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toMatch(/support_tickets_opened_total\{source="app",priority="normal"\} [4-9]/);
    expect(text).toMatch(/support_first_response_seconds_count\{priority="normal"\} [1-9]/);
    expect(text).toMatch(/support_resolution_seconds_count\{priority="normal"\} [1-9]/);
    expect(text).toMatch(/support_sla_breaches_total\{breach="first_response",priority="normal"\} 1/);
  });
});
