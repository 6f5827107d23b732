import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, type CreatedUser } from '../../helpers/auth.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { authHeader } from '../orders/helpers.js';

/**
 * The admin statistics per channel (GET /v1/admin/notifications/stats) and Africa's Talking's
 * delivery reports (POST /v1/webhooks/africastalking/delivery?token=…), against PostgreSQL.
 */
const CALLBACK_TOKEN = 'at-callback-token-0123456789abcdefghijklmnop';
const SMS_COST_XAF = 25;
const REPORT_PATH = '/v1/webhooks/africastalking/delivery';
let testApp: TestApp;
let admin: CreatedUser;
let customer: CreatedUser;

beforeAll(async () => {
  testApp = await createTestApp({
    env: { AFRICASTALKING_CALLBACK_TOKEN: CALLBACK_TOKEN, NOTIFY_SMS_COST_XAF: String(SMS_COST_XAF) },
  });
  [admin, customer] = await Promise.all([
    createUser(testApp, { roles: ['admin'] }),
    createUser(testApp, { roles: ['customer'] }),
  ]);
}, 60_000);
afterAll(async () => testApp?.close());

/** A send of a fresh intent on a channel, finished as the queue leaves it. */
async function send(
  channel: 'push' | 'sms' | 'email',
  outcome: { status: 'sent' | 'failed'; providerId?: string; costXaf?: number; reason?: string },
  at: Date,
): Promise<string> {
  const { repository } = testApp.services.notify;
  const intentId = randomUUID();
  const recipientId = randomUUID();
  await repository.insertIntents(
    [
      {
        id: intentId,
        recipientId,
        kind: 'order.ready',
        category: 'orders',
        priority: 'high',
        params: { restaurant: 'Chez Mama' },
        orderId: null,
        sourceEventId: randomUUID(),
        requiresAck: false,
        receipt: false,
      },
    ],
    at,
  );
  const claim = await repository.claimDelivery({
    intentId,
    recipientId,
    channel,
    priority: 'high',
    allowance: Number.POSITIVE_INFINITY,
    now: at,
  });
  expect(claim).toBe('claimed');
  await repository.finishDelivery(intentId, channel, { transport: 'africastalking', ...outcome }, at);
  return `${intentId}:${channel}`;
}

async function receipt(deliveryId: string) {
  const { rows } = await testApp.database.pool.query<{
    provider_status: string | null;
    provider_reason: string | null;
  }>('SELECT provider_status, provider_reason FROM notification_deliveries WHERE id = $1', [deliveryId]);
  return rows[0];
}

const report = (fields: Record<string, string>, token: string | null = CALLBACK_TOKEN) =>
  testApp.app.inject({
    method: 'POST',
    url: token === null ? REPORT_PATH : `${REPORT_PATH}?token=${encodeURIComponent(token)}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  });
const atReport = (id: string, status: string, extra: Record<string, string> = {}) => ({
  id,
  status,
  phoneNumber: '+237650000000',
  networkCode: '62401',
  retryCount: '0',
  ...extra,
});
const messageId = () => `ATXid_${randomUUID().replaceAll('-', '')}`;

async function receiptsCounted(status: string): Promise<number> {
  const response = await testApp.app.inject({ method: 'GET', url: '/metrics' });
  const line = response.body
    .split('\n')
    .find((text) =>
      text.startsWith(
        `notification_receipts_total{provider="africastalking",channel="sms",status="${status}"}`,
      ),
    );
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

describe('Africa’s Talking delivery reports', () => {
  it('records Sent then Success; a repeat and an older status change nothing', async () => {
    const id = messageId();
    const delivery = await send('sms', { status: 'sent', providerId: id, costXaf: 20 }, new Date());
    const sent = await report(atReport(id, 'Sent'));
    expect(sent.statusCode, sent.body).toBe(200);
    expect(sent.json()).toEqual({ received: true, applied: true });
    expect(await receipt(delivery)).toEqual({ provider_status: 'sent', provider_reason: null });

    const before = await receiptsCounted('delivered');
    expect((await report(atReport(id, 'Success'))).statusCode).toBe(200);
    expect((await report(atReport(id, 'Success', { retryCount: '1' }))).statusCode).toBe(200); // AT repeats
    expect((await report(atReport(id, 'Buffered'))).statusCode).toBe(200); // late and older
    expect((await receipt(delivery))?.provider_status).toBe('delivered');
    expect(await receiptsCounted('delivered')).toBe(before + 1);
  });

  it('records a failure with its reason', async () => {
    const id = messageId();
    const delivery = await send('sms', { status: 'sent', providerId: id }, new Date());
    await report(atReport(id, 'Failed', { failureReason: 'DeliveryFailure' }));
    expect(await receipt(delivery)).toEqual({
      provider_status: 'failed',
      provider_reason: 'africastalking Failed DeliveryFailure',
    });
  });

  it('refuses a report without the callback token, or with another, with 403, and changes nothing', async () => {
    const id = messageId();
    const delivery = await send('sms', { status: 'sent', providerId: id }, new Date());
    for (const token of [null, '', 'wrong-token-0123456789abcdefghijklmnopq', `${CALLBACK_TOKEN}x`]) {
      const response = await report(atReport(id, 'Success'), token);
      expect(response.statusCode, String(token)).toBe(403);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(response.json()).toMatchObject({ code: 'receipt_token_invalid' });
    }
    expect((await receipt(delivery))?.provider_status).toBeNull();
  });

  it('answers 200 for an id it does not know, ignores statuses it does not keep, and refuses a malformed report with 400', async () => {
    expect((await report(atReport(messageId(), 'Success'))).json()).toEqual({
      received: true,
      applied: false,
    });
    const id = messageId();
    const delivery = await send('sms', { status: 'sent', providerId: id }, new Date());
    expect((await report(atReport(id, 'SomethingNew'))).json()).toEqual({ received: true, applied: false });
    expect((await receipt(delivery))?.provider_status).toBeNull();
    for (const fields of [
      { status: 'Success' }, // no id
      atReport('has spaces in it', 'Success'),
      atReport(id, 'Failed', { failureReason: 'x'.repeat(65) }),
      atReport(id, 'Success\u0000'),
    ]) {
      const response = await report(fields as Record<string, string>);
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    expect((await receipt(delivery))?.provider_status).toBeNull();
  });
});

describe('admin statistics per channel', () => {
  const stats = (token: string, query = '') =>
    testApp.app.inject({
      method: 'GET',
      url: `/v1/admin/notifications/stats${query}`,
      headers: authHeader(token),
    });

  it('counts sends, success and delivered rates, and cost (the provider’s where given, else the unit cost) over the period', async () => {
    const at = new Date('2026-01-10T10:00:00Z');
    const reported = messageId();
    await send('sms', { status: 'sent', providerId: reported, costXaf: 20 }, at); // AT said 20 XAF
    await send('sms', { status: 'sent', providerId: messageId() }, at); // unit cost
    await send('sms', { status: 'failed', reason: 'invalid_number' }, at);
    await send('push', { status: 'sent', providerId: 'projects/x/messages/1' }, at);
    await send(
      'sms',
      { status: 'sent', providerId: messageId(), costXaf: 99 },
      new Date('2026-01-12T10:00:00Z'),
    ); // outside
    await report(atReport(reported, 'Success'));

    const response = await stats(admin.accessToken, '?from=2026-01-10T00:00:00Z&to=2026-01-11T00:00:00Z');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { channels: { channel: string }[] };
    const sms = body.channels.find((channel) => channel.channel === 'sms');
    expect(sms).toEqual({
      channel: 'sms',
      sends: { sent: 2, failed: 1, capped: 0, sending: 0 },
      successRate: 0.6667,
      receipts: { queued: 0, sent: 0, delivered: 1, failed: 0 },
      deliveredRate: 1,
      costXaf: {
        total: 20 + SMS_COST_XAF,
        fromProvider: 20,
        estimated: SMS_COST_XAF,
        unitCostXaf: SMS_COST_XAF,
      },
    });
    expect(body.channels.find((channel) => channel.channel === 'push')).toMatchObject({
      sends: { sent: 1, failed: 0 },
      successRate: 1,
      deliveredRate: null,
      costXaf: { total: 0 },
    });
    expect(body.channels.find((channel) => channel.channel === 'email')).toMatchObject({
      sends: { sent: 0, failed: 0 },
      successRate: null,
    });
  });

  it('is for administrators only', async () => {
    expect((await stats(customer.accessToken)).statusCode).toBe(403);
    expect(
      (await testApp.app.inject({ method: 'GET', url: '/v1/admin/notifications/stats' })).statusCode,
    ).toBe(401);
  });

  it('refuses a period that is reversed, too long or not a date with 400 problem+json', async () => {
    for (const query of [
      '?from=2026-01-11T00:00:00Z&to=2026-01-10T00:00:00Z',
      '?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z',
      '?from=yesterday',
      '?from=2026-01-10T00:00:00Z%00',
      '?other=1',
    ]) {
      const response = await stats(admin.accessToken, query);
      expect(response.statusCode, query).toBe(400);
      expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    }
  });
});
