import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * Support's figures: first response and resolution times and SLA breaches of the tickets opened
 * in a period, overall, per agent and per team (`GET /v1/admin/support/metrics`), and the
 * Prometheus series.
 * The tickets' clocks are set in SQL so the figures are exact.
 */
let testApp: TestApp;
let customer: CreatedUser;
let supervisor: CreatedUser;
let agentA: CreatedUser;
let agentB: CreatedUser;
let admin: CreatedUser;
const ids: string[] = [];

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, token: string, payload?: unknown) =>
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
  [customer, supervisor, agentA, agentB, admin] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['admin'] }),
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

  it('an admin puts agents in teams (audited); the figures are read per team; a bad team is 400', async () => {
    const url = (agent: CreatedUser) => `/v1/admin/support/agents/${agent.userId}`;
    const placed = await inject('PUT', url(agentA), admin.accessToken, { team: 'douala-day' });
    expect(placed.statusCode, placed.body).toBe(200);
    expect(placed.json()).toMatchObject({ userId: agentA.userId, team: 'douala-day', capacity: 10 });
    // The supervisor in another team: its tickets are none, so it has no row.
    expect((await inject('PUT', url(supervisor), admin.accessToken, { team: 'yaounde' })).statusCode).toBe(
      200,
    );

    const answer = await inject('GET', '/v1/admin/support/metrics', supervisor.accessToken);
    expect(answer.statusCode, answer.body).toBe(200);
    const teams = answer.json().teams as { team: string | null; opened: number }[];
    expect(teams.map((row) => [row.team, row.opened])).toEqual([
      ['douala-day', 2],
      [null, 1],
    ]);
    expect(teams[0]).toMatchObject({
      firstResponse: { count: 2, averageSeconds: 1_200 },
      slaBreaches: { firstResponse: 0, resolution: 1 },
    });
    // A plain agent's report holds only their own tickets, so only their team.
    const own = await inject('GET', '/v1/admin/support/metrics', agentA.accessToken);
    expect(own.json().teams.map((row: { team: string }) => row.team)).toEqual(['douala-day']);

    const audit = await sql<{ old_value: { team: string | null }; new_value: { team: string | null } }>`
      SELECT old_value, new_value FROM audit_logs
      WHERE action = 'support.agent_configured' AND resource = ${`support_agent:${agentA.userId}`}`.execute(
      testApp.services.db,
    );
    expect(audit.rows.map((row) => [row.old_value.team, row.new_value.team])).toEqual([[null, 'douala-day']]);

    for (const team of ['Douala', '-night', 'night-', 'a'.repeat(41), 'dou ala', 'nuit\u0000', '', 12]) {
      const refused = await inject('PUT', url(agentB), admin.accessToken, { team });
      expect(refused.statusCode, `${JSON.stringify(team)}: ${refused.body}`).toBe(400);
    }
    expect((await inject('PUT', url(agentB), supervisor.accessToken, { team: 'x' })).statusCode).toBe(403);
    // null takes the agent out of the team.
    const out = await inject('PUT', url(agentA), admin.accessToken, { team: null });
    expect(out.json().team).toBeNull();
    const after = await inject('GET', '/v1/admin/support/metrics', supervisor.accessToken);
    expect(
      after.json().teams.map((row: { team: string | null; opened: number }) => [row.team, row.opened]),
    ).toEqual([[null, 3]]);
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
