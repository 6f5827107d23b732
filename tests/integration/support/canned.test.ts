import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * Canned responses: supervisors write them per language (audited, versioned, idempotent), agents
 * list them and send one on a ticket as a message; refusals change nothing.
 */
let testApp: TestApp;
let customer: CreatedUser;
let supervisor: CreatedUser;
let agent: CreatedUser;
let frId: string;

const inject = (
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  token: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) =>
  testApp.app.inject({
    method,
    url,
    headers: { ...authHeader(token), ...headers },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });

const cannedCount = async () =>
  (await testApp.services.db.selectFrom('support_canned_responses').select('id').execute()).length;
const audits = (resource: string) =>
  testApp.services.db
    .selectFrom('audit_logs')
    .select(['action', 'new_value'])
    .where('resource', '=', resource)
    .orderBy('id')
    .execute();

const refund = {
  shortcut: 'refund-delay',
  locale: 'fr',
  title: 'Délai de remboursement',
  body: 'Votre remboursement arrive sous 48 heures sur votre portefeuille.',
  category: 'payment',
};

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, supervisor, agent] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
  await testApp.services.support.agents.configure(supervisor.userId, { supervisor: true }, new Date());
}, 60_000);
afterAll(async () => testApp?.close());

describe('canned responses', () => {
  it('a supervisor writes one per language, audited; the same Idempotency-Key answers the same, with another body 409', async () => {
    const key = randomUUID();
    const created = await inject(
      'POST',
      '/v1/admin/support/canned-responses',
      supervisor.accessToken,
      refund,
      {
        'idempotency-key': key,
      },
    );
    expect(created.statusCode, created.body).toBe(201);
    frId = created.json().id;
    expect(created.headers.location).toBe(`/v1/support/canned-responses/${frId}`);
    expect(created.json()).toMatchObject({
      shortcut: 'refund-delay',
      locale: 'fr',
      version: 1,
      status: 'active',
    });
    const replay = await inject(
      'POST',
      '/v1/admin/support/canned-responses',
      supervisor.accessToken,
      refund,
      {
        'idempotency-key': key,
      },
    );
    expect(replay.json().id).toBe(frId);
    const reused = await inject(
      'POST',
      '/v1/admin/support/canned-responses',
      supervisor.accessToken,
      { ...refund, title: 'Autre' },
      { 'idempotency-key': key },
    );
    expect(reused.statusCode).toBe(409);
    const english = await inject('POST', '/v1/admin/support/canned-responses', supervisor.accessToken, {
      ...refund,
      locale: 'en',
      title: 'Refund delay',
      body: 'Your refund reaches your wallet within 48 hours.',
    });
    expect(english.statusCode, english.body).toBe(201);
    expect((await audits(`support_canned_response:${frId}`)).map((row) => row.action)).toEqual([
      'support.canned_created',
    ]);
  });

  it('refuses plain agents, customers, a taken shortcut and bad input, storing nothing', async () => {
    const before = await cannedCount();
    const byAgent = await inject('POST', '/v1/admin/support/canned-responses', agent.accessToken, {
      ...refund,
      shortcut: 'agent-one',
    });
    expect(byAgent.statusCode).toBe(403);
    expect(byAgent.json().code).toBe('supervisor_required');
    expect(
      (
        await inject('POST', '/v1/admin/support/canned-responses', customer.accessToken, {
          ...refund,
          shortcut: 'customer-one',
        })
      ).statusCode,
    ).toBe(403);
    const taken = await inject('POST', '/v1/admin/support/canned-responses', supervisor.accessToken, refund);
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe('canned_shortcut_taken');
    for (const bad of [
      { ...refund, shortcut: 'Bad Shortcut' },
      { ...refund, shortcut: 'nul', body: 'a\u0000b' },
      { ...refund, shortcut: 'blank', title: '   ' },
      { ...refund, shortcut: 'long', body: 'x'.repeat(2_001) },
      { ...refund, shortcut: 'lang', locale: 'de' },
      { ...refund, shortcut: 'types', title: 42 },
      { ...refund, shortcut: 'nulls', body: null },
      { ...refund, shortcut: 'extra', extra: true },
    ]) {
      const refused = await inject('POST', '/v1/admin/support/canned-responses', supervisor.accessToken, bad);
      expect(refused.statusCode, JSON.stringify(bad).slice(0, 80)).toBe(400);
      expect(refused.headers['content-type']).toContain('application/problem+json');
    }
    expect(await cannedCount()).toBe(before);
  });

  it('agents list them in their language, filtered by words; archived ones are hidden', async () => {
    const english = await inject('GET', '/v1/support/canned-responses', agent.accessToken, undefined, {
      'accept-language': 'en',
    });
    expect(english.statusCode, english.body).toBe(200);
    expect(english.json().items.map((item: { title: string }) => item.title)).toEqual(['Refund delay']);
    const found = await inject('GET', '/v1/support/canned-responses?locale=fr&q=rembours', agent.accessToken);
    expect(found.json().items.map((item: { id: string }) => item.id)).toEqual([frId]);
    const none = await inject(
      'GET',
      '/v1/support/canned-responses?locale=fr&q=livraison%25',
      agent.accessToken,
    );
    expect(none.json().items).toEqual([]);
    expect((await inject('GET', '/v1/support/canned-responses', customer.accessToken)).statusCode).toBe(403);
  });

  it('an agent sends one on their ticket: its text is the message, the audit names it; customers and mixed inputs are refused', async () => {
    const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
      category: 'payment',
      subject: 'Remboursement',
      body: 'Quand serai-je remboursé ?',
    });
    const ticketId = opened.json().id as string;
    const assigned = await inject(
      'POST',
      `/v1/admin/support/tickets/${ticketId}/assign`,
      supervisor.accessToken,
      {
        assigneeId: agent.userId,
      },
    );
    expect(assigned.statusCode, assigned.body).toBe(200);
    const sent = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {
      cannedResponseId: frId,
    });
    expect(sent.statusCode, sent.body).toBe(201);
    expect(sent.json()).toMatchObject({ from: 'staff', body: refund.body });
    const audit = (await audits(`support_ticket:${ticketId}`)).filter(
      (row) => row.action === 'support.message_added',
    );
    expect(audit.at(-1)!.new_value).toMatchObject({ cannedResponseId: frId });

    const messages = async () =>
      (await inject('GET', `/v1/support/tickets/${ticketId}`, agent.accessToken)).json().messages.length;
    const before = await messages();
    const byCustomer = await inject(
      'POST',
      `/v1/support/tickets/${ticketId}/messages`,
      customer.accessToken,
      {
        cannedResponseId: frId,
      },
    );
    expect(byCustomer.statusCode).toBe(403);
    expect(byCustomer.json().code).toBe('canned_response_staff_only');
    const both = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {
      cannedResponseId: frId,
      body: 'Et ceci.',
    });
    expect(both.json().code).toBe('message_text_ambiguous');
    const neither = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {});
    expect(neither.json().code).toBe('message_text_required');
    const unknown = await inject('POST', `/v1/support/tickets/${ticketId}/messages`, agent.accessToken, {
      cannedResponseId: randomUUID(),
    });
    expect(unknown.statusCode).toBe(404);
    expect(await messages()).toBe(before);
  });

  it('a supervisor changes one as of the version read (stale: 409) and archives it; archived, it cannot be sent', async () => {
    const changed = await inject(
      'PATCH',
      `/v1/admin/support/canned-responses/${frId}`,
      supervisor.accessToken,
      {
        version: 1,
        body: 'Votre remboursement arrive sous 24 heures.',
      },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ version: 2, body: 'Votre remboursement arrive sous 24 heures.' });
    const stale = await inject(
      'PATCH',
      `/v1/admin/support/canned-responses/${frId}`,
      supervisor.accessToken,
      {
        version: 1,
        title: 'Perdu',
      },
    );
    expect(stale.statusCode).toBe(409);
    expect(stale.json().code).toBe('canned_changed');
    const byAgent = await inject('PATCH', `/v1/admin/support/canned-responses/${frId}`, agent.accessToken, {
      version: 2,
      status: 'archived',
    });
    expect(byAgent.statusCode).toBe(403);
    const archived = await inject(
      'PATCH',
      `/v1/admin/support/canned-responses/${frId}`,
      supervisor.accessToken,
      {
        version: 2,
        status: 'archived',
      },
    );
    expect(archived.json()).toMatchObject({ status: 'archived', version: 3 });
    const listed = await inject('GET', '/v1/support/canned-responses?locale=fr', agent.accessToken);
    expect(listed.json().items).toEqual([]);
    expect((await audits(`support_canned_response:${frId}`)).map((row) => row.action)).toEqual([
      'support.canned_created',
      'support.canned_updated',
      'support.canned_updated',
    ]);
    const opened = await inject('POST', '/v1/support/tickets', customer.accessToken, {
      category: 'other',
      subject: 'Autre',
      body: 'Une autre question.',
    });
    const sent = await inject(
      'POST',
      `/v1/support/tickets/${opened.json().id}/messages`,
      supervisor.accessToken,
      {
        cannedResponseId: frId,
      },
    );
    expect(sent.statusCode).toBe(404);
    expect(sent.json().code).toBe('canned_response_not_found');
  });
});
