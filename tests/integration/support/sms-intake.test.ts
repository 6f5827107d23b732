import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader, createUser, type CreatedUser } from '../../helpers/auth.js';

/**
 * Inbound SMS to support (`POST /v1/webhooks/twilio/sms`): signed like every Twilio webhook
 * (HMAC-SHA1 with the auth token over our public URL and the sorted parameters, computed here),
 * the text continues the sender's open ticket or opens one.
 */
const AUTH_TOKEN = 'support-sms-test-twilio-token';
const PUBLIC_BASE_URL = 'https://api.example.cm';
const SMS_URL = `${PUBLIC_BASE_URL}/v1/webhooks/twilio/sms`;
let testApp: TestApp;
let customer: CreatedUser;
let agentOnly: CreatedUser;

function sign(params: Record<string, string>, token = AUTH_TOKEN): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, key) => text + key + params[key], SMS_URL);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}
const sid = () => `SM${randomBytes(16).toString('hex')}`;
const inbound = (from: string, body: string, messageSid = sid()) => ({
  AccountSid: `AC${'1'.repeat(32)}`,
  ApiVersion: '2010-04-01',
  From: from,
  To: '+237650000000',
  Body: body,
  MessageSid: messageSid,
  SmsSid: messageSid,
  NumMedia: '0',
});
const post = (params: Record<string, string>, signature = sign(params)) =>
  testApp.app.inject({
    method: 'POST',
    url: '/v1/webhooks/twilio/sms',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
    payload: new URLSearchParams(params).toString(),
  });
const ticketsOf = (userId: string) =>
  testApp.services.db
    .selectFrom('support_tickets')
    .select(['id', 'category', 'status'])
    .where('opener_id', '=', userId)
    .orderBy('created_at')
    .execute();
const messageCount = async () =>
  (await testApp.services.db.selectFrom('support_messages').select('id').execute()).length;

beforeAll(async () => {
  testApp = await createTestApp({ env: { TWILIO_AUTH_TOKEN: AUTH_TOKEN, PUBLIC_BASE_URL } });
  [customer, agentOnly] = await Promise.all([
    createUser(testApp, { roles: ['customer'] }),
    createUser(testApp, { roles: ['support'] }),
  ]);
}, 60_000);
afterAll(async () => testApp?.close());

describe('tickets by SMS', () => {
  let ticketId: string;

  it('a signed SMS from a customer’s phone opens a ticket (category from its words), answered with empty TwiML', async () => {
    const params = inbound(
      customer.phone,
      'Bonjour, mon livreur est en retard de 40 minutes, commande 5521.',
    );
    const answer = await post(params);
    expect(answer.statusCode, answer.body).toBe(200);
    expect(answer.headers['content-type']).toContain('text/xml');
    expect(answer.body).toContain('<Response></Response>');
    const tickets = await ticketsOf(customer.userId);
    expect(tickets).toEqual([expect.objectContaining({ category: 'delivery', status: 'open' })]);
    ticketId = tickets[0]!.id;
    const read = await testApp.app.inject({
      method: 'GET',
      url: `/v1/support/tickets/${ticketId}`,
      headers: authHeader(customer.accessToken),
    });
    const subject = read.json().subject as string;
    expect(subject).toMatch(/^Bonjour, mon livreur est en retard.*…$/);
    expect(subject.length).toBeLessThanOrEqual(60);
    expect(read.json().messages[0].body).toBe(
      'Bonjour, mon livreur est en retard de 40 minutes, commande 5521.',
    );
    // Redelivered by Twilio (same MessageSid): nothing new.
    expect((await post(params)).statusCode).toBe(200);
    expect(await ticketsOf(customer.userId)).toHaveLength(1);
  });

  it('the next SMS continues that open ticket; the same SMS delivered twice is one message', async () => {
    const before = await messageCount();
    const params = inbound(customer.phone, 'Toujours rien.');
    expect((await post(params)).statusCode).toBe(200);
    expect((await post(params)).statusCode).toBe(200);
    expect(await messageCount()).toBe(before + 1);
    expect(await ticketsOf(customer.userId)).toHaveLength(1);
    const read = await testApp.app.inject({
      method: 'GET',
      url: `/v1/support/tickets/${ticketId}`,
      headers: authHeader(customer.accessToken),
    });
    expect(read.json().messages.at(-1).body).toBe('Toujours rien.');
  });

  it('an unsigned or wrongly signed SMS is 403 and changes nothing; unknown senders, non-openers and empty texts are acknowledged and ignored', async () => {
    const before = await messageCount();
    const params = inbound(customer.phone, 'Faux message');
    expect((await post(params, sign(params, 'another-token'))).statusCode).toBe(403);
    const unsigned = await testApp.app.inject({
      method: 'POST',
      url: '/v1/webhooks/twilio/sms',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(params).toString(),
    });
    expect(unsigned.statusCode).toBe(403);
    expect(unsigned.headers['content-type']).toContain('application/problem+json');
    expect((await post(inbound('+237699999999', 'Qui suis-je ?'))).statusCode).toBe(200);
    expect((await post(inbound(agentOnly.phone, 'Je suis agent'))).statusCode).toBe(200);
    expect((await post(inbound(customer.phone, '   '))).statusCode).toBe(200);
    // A signed but malformed post is a 400.
    const malformed = { ...inbound(customer.phone, 'x'), From: 'not-a-phone' };
    expect((await post(malformed)).statusCode).toBe(400);
    expect(await messageCount()).toBe(before);
    expect(await ticketsOf(agentOnly.userId)).toEqual([]);
    // No phone number or text in the log lines of the intake.
    const lines = testApp.logs.filter((line) => line.msg === 'support SMS intake');
    expect(lines.length).toBeGreaterThan(0);
    expect(JSON.stringify(lines)).not.toContain(customer.phone.slice(4));
    expect(JSON.stringify(lines)).not.toContain('Toujours');
  });
});
