import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * A ticket's SLA clock follows its city's support hours (issue #26), on the real PostgreSQL:
 * the opener's default address is in Douala, Douala's support opens hours from now, so a ticket
 * opened now is due its minutes after that opening, and carries the city. An opener without an
 * address gets no city and the clock runs all day, as before.
 */
let testApp: TestApp;
let customer: CreatedUser;
let stranger: CreatedUser;
let admin: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp({
    env: { SUPPORT_FIRST_RESPONSE_LOW_MINUTES: '30', SUPPORT_SLA_LOW_MINUTES: '120' },
  });
  [customer, stranger, admin] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['admin'] }),
  ]);
}, 120_000);
afterAll(async () => testApp?.close());

const HOUR = 3_600_000;
const pad = (n: number) => String(n).padStart(2, '0');

async function open(token: string) {
  const opened = await testApp.app.inject({
    method: 'POST',
    url: '/v1/support/tickets',
    headers: authHeader(token),
    payload: { category: 'other', subject: 'Question', body: 'Une question.' },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return testApp.services.db
    .selectFrom('support_tickets')
    .select(['city_id', 'created_at', 'first_response_due_at', 'sla_due_at'])
    .where('id', '=', opened.json().id)
    .executeTakeFirstOrThrow();
}

describe("the SLA clock in the city's support hours", () => {
  it('given Douala opens support 3 hours from now, when its customer opens a ticket, then both clocks start at the opening', async () => {
    const added = await testApp.app.inject({
      method: 'POST',
      url: '/v1/me/addresses',
      headers: authHeader(customer.accessToken),
      payload: { label: 'Maison', line1: 'Rue 1', city: 'Douala' },
    });
    expect(added.statusCode, added.body).toBe(201);
    // Douala is UTC+1 all year: the window opens at the next whole hour 3-4 hours from now, 4 hours long.
    const opening = new Date(Math.ceil((Date.now() + 3 * HOUR) / HOUR) * HOUR);
    const local = new Date(opening.getTime() + HOUR);
    const from = `${pad(local.getUTCHours())}:00`;
    const to = `${pad((local.getUTCHours() + 4) % 24)}:00`;
    const changed = await testApp.app.inject({
      method: 'PATCH',
      url: '/v1/admin/cities/douala',
      headers: authHeader(admin.accessToken),
      payload: { rules: { supportHours: `${from}-${to}` } },
    });
    expect(changed.statusCode, changed.body).toBe(200);

    const ticket = await open(customer.accessToken);
    expect(ticket.city_id).toBe('douala');
    expect(ticket.first_response_due_at!.getTime()).toBe(opening.getTime() + 30 * 60_000);
    expect(ticket.sla_due_at.getTime()).toBe(opening.getTime() + 120 * 60_000);
  });

  it('given an opener without an order or an address, when they open a ticket, then it has no city and the clock runs all day', async () => {
    const ticket = await open(stranger.accessToken);
    expect(ticket.city_id).toBeNull();
    expect(ticket.sla_due_at.getTime() - ticket.created_at.getTime()).toBe(120 * 60_000);
  });
});
