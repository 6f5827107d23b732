import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * Limited data access for agents (docs/support.md "Who sees what"): a plain agent reads only the
 * tickets assigned to them, and sees of the opener their name and a masked phone, never the
 * number; the ticket's messages, remedies and figures of others' tickets answer 404 or nothing.
 */
let testApp: TestApp;
let customer: CreatedUser;
let assigned: CreatedUser;
let other: CreatedUser;
let supervisor: CreatedUser;
let ticketId: string;

const get = (url: string, user: CreatedUser) =>
  testApp.app.inject({ method: 'GET', url, headers: authHeader(user.accessToken) });

beforeAll(async () => {
  testApp = await createTestApp();
  [customer, assigned, other, supervisor] = await Promise.all([
    createUser(testApp, { roles: ['customer'], name: 'Aïcha Mbarga' }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
  await testApp.services.support.agents.configure(supervisor.userId, { supervisor: true }, new Date());
  const opened = await testApp.app.inject({
    method: 'POST',
    url: '/v1/support/tickets',
    headers: authHeader(customer.accessToken),
    payload: { category: 'account', subject: 'Connexion', body: 'Je ne peux plus me connecter.' },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  ticketId = opened.json().id;
  const assign = await testApp.app.inject({
    method: 'POST',
    url: `/v1/admin/support/tickets/${ticketId}/assign`,
    headers: authHeader(supervisor.accessToken),
    payload: { assigneeId: assigned.userId },
  });
  expect(assign.statusCode, assign.body).toBe(200);
}, 180_000);
afterAll(async () => testApp?.close());

describe('agents see only their tickets, with the opener’s phone masked', () => {
  it('the assigned agent sees the opener’s name and masked phone, never the number', async () => {
    const read = await get(`/v1/support/tickets/${ticketId}`, assigned);
    expect(read.statusCode, read.body).toBe(200);
    const masked = `${customer.phone.slice(0, 5)}****${customer.phone.slice(-4)}`;
    expect(read.json().opener).toEqual({ name: 'Aïcha Mbarga', phoneMasked: masked });
    expect(read.body).not.toContain(customer.phone);
    expect(read.body).not.toContain(customer.phone.slice(4));
  });

  it('another plain agent gets 404 for the ticket, its messages and its remedies, and an empty queue', async () => {
    for (const url of [
      `/v1/support/tickets/${ticketId}`,
      `/v1/support/tickets/${ticketId}/messages`,
      `/v1/admin/support/tickets/${ticketId}/remedies`,
    ]) {
      const refused = await get(url, other);
      expect(refused.statusCode, url).toBe(404);
      expect(refused.body).not.toContain(customer.phone.slice(-4));
    }
    const queue = await get('/v1/admin/support/tickets', other);
    expect(queue.statusCode).toBe(200);
    expect(queue.json().items).toEqual([]);
  });

  it('a supervisor sees it masked too; the opener’s own view carries no contact card', async () => {
    const bySupervisor = await get(`/v1/support/tickets/${ticketId}`, supervisor);
    expect(bySupervisor.json().opener.phoneMasked).toMatch(/^\+2376\*{4}\d{4}$/);
    expect(bySupervisor.body).not.toContain(customer.phone);
    const own = await get(`/v1/support/tickets/${ticketId}`, customer);
    expect(own.statusCode).toBe(200);
    expect(own.json().opener).toBeNull();
  });
});
