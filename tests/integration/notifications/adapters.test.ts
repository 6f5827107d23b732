import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFcmAdapter, type FcmAdapter } from '../../../src/modules/notifications/push-fcm.js';
import { createTwilioAdapter } from '../../../src/modules/notifications/sms-twilio.js';
import { createAfricasTalkingAdapter } from '../../../src/modules/notifications/sms-africastalking.js';
import { createSmtpAdapter } from '../../../src/modules/notifications/email-smtp.js';
import type { OutboundMessage } from '../../../src/modules/notifications/index.js';
import {
  AFRICASTALKING_NUMBERS,
  FCM_TOKENS,
  SMTP_ADDRESSES,
  startAfricasTalkingStandIn,
  startFcmStandIn,
  startSmtpStandIn,
  startTwilioStandIn,
  testServiceAccount,
  TWILIO_NUMBERS,
} from './stand-ins.js';

/**
 * Each channel adapter through its real SDK (firebase-admin, twilio, nodemailer) or plain fetch
 * (Africa's Talking), against a local stand-in of the provider reached through the SDK's own
 * configuration: the request the provider would receive, and the verdict on each refusal
 * (permanent, dead token, or thrown for the queue to retry).
 */

/** The FCM v1 message as it arrives on the wire (snake_case, TTL as a duration). */
interface FcmWireMessage {
  token: string;
  notification: unknown;
  data: unknown;
  android: unknown;
  apns: { headers: Record<string, string | undefined>; payload: unknown };
}

describe('push through firebase-admin (FCM HTTP v1)', () => {
  const projectId = 'food-delivery-test';
  const account = testServiceAccount(projectId);
  let fcm: Awaited<ReturnType<typeof startFcmStandIn>>;
  let adapter: FcmAdapter;
  const push = (token: string, metadata: Record<string, unknown> = {}): OutboundMessage => ({
    channel: 'push',
    to: token,
    subject: 'Nouvelle commande',
    body: 'Commande n° 1042 payée : 2 plats.',
    metadata: { intentId: 'intent-1', kind: 'restaurant.order_paid', orderId: 'order-1', ...metadata },
  });

  const directory = mkdtempSync(join(tmpdir(), 'fcm-key-'));
  /** The key as a file (GOOGLE_APPLICATION_CREDENTIALS): how firebase-admin lets the token request use the agent. */
  const keyFile = (json: string) => {
    const path = join(directory, `${randomUUID()}.json`);
    writeFileSync(path, json, { mode: 0o600 });
    return path;
  };

  beforeAll(async () => {
    fcm = await startFcmStandIn(account);
    adapter = createFcmAdapter({
      serviceAccountFile: keyFile(account.json),
      ttlSeconds: 3_600,
      httpAgent: fcm.agent,
    });
  });
  afterAll(async () => {
    await adapter?.close();
    await fcm?.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('gets a token with the service account, then sends the notification, data, Android and APNs parts', async () => {
    const before = Date.now();
    const result = await adapter.send(
      push('device-token-1', {
        platform: 'android',
        sound: 'new_order',
        collapseKey: 'order-1',
        ttlSeconds: 600,
      }),
    );
    expect(result).toMatchObject({ status: 'sent' });
    expect(result.providerId).toMatch(new RegExp(`^projects/${projectId}/messages/`));

    const token = fcm.requests.find((request) => request.path === 'oauth2.googleapis.com/token');
    expect(token, 'the OAuth token request').toBeDefined();
    expect(new URLSearchParams(token!.body).get('grant_type')).toBe(
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    );

    const [send] = fcm.sends();
    expect(send!.method).toBe('POST');
    expect(send!.path).toBe(`fcm.googleapis.com/v1/projects/${projectId}/messages:send`);
    expect(send!.headers.authorization).toMatch(/^Bearer ya29\.stand-in-/);
    expect(send!.headers['content-type']).toMatch(/application\/json/);
    const { message } = JSON.parse(send!.body) as { message: FcmWireMessage };
    expect(message.token).toBe('device-token-1');
    expect(message.notification).toEqual({
      title: 'Nouvelle commande',
      body: 'Commande n° 1042 payée : 2 plats.',
    });
    // Ids only in the data payload, as strings; the push controls are not repeated there.
    expect(message.data).toEqual({ intentId: 'intent-1', kind: 'restaurant.order_paid', orderId: 'order-1' });
    expect(message.android).toEqual({
      priority: 'high',
      ttl: '600s',
      collapse_key: 'order-1',
      notification: { channel_id: 'new_order', sound: 'new_order' },
    });
    expect(message.apns.headers['apns-collapse-id']).toBe('order-1');
    expect(message.apns.headers['apns-priority']).toBe('10');
    const expiration = Number(message.apns.headers['apns-expiration']);
    expect(expiration).toBeGreaterThanOrEqual(Math.floor(before / 1_000) + 600);
    expect(expiration).toBeLessThanOrEqual(Math.floor(Date.now() / 1_000) + 600);
    expect(message.apns.payload).toEqual({ aps: { sound: 'new_order.caf' } });
  });

  it('sends an ordinary message on the general channel with the default sound and TTL', async () => {
    await adapter.send(push('device-token-2'));
    const { message } = JSON.parse(fcm.sends().at(-1)!.body) as { message: FcmWireMessage };
    expect(message.android).toEqual({
      priority: 'normal',
      ttl: '3600s',
      notification: { channel_id: 'general', sound: 'default' },
    });
    expect(message.apns.payload).toEqual({ aps: { sound: 'default' } });
    expect(message.apns.headers['apns-collapse-id']).toBeUndefined();
  });

  it('answers an unregistered token as permanent and dead, so its device is forgotten', async () => {
    await expect(adapter.send(push(FCM_TOKENS.unregistered))).resolves.toEqual({
      status: 'failed',
      reason: 'messaging/registration-token-not-registered',
      permanent: true,
      unregisteredToken: true,
    });
  });

  it('answers an invalid argument as permanent, the token kept', async () => {
    const result = await adapter.send(push(FCM_TOKENS.invalidArgument));
    expect(result).toMatchObject({ status: 'failed', reason: 'messaging/invalid-argument', permanent: true });
    expect(result.unregisteredToken).toBeUndefined();
  });

  it('throws on a quota (429) and on a server fault (500), for the queue to retry', async () => {
    await expect(adapter.send(push(FCM_TOKENS.quota))).rejects.toMatchObject({
      code: 'messaging/message-rate-exceeded',
    });
    await expect(adapter.send(push(FCM_TOKENS.internal))).rejects.toMatchObject({
      code: 'messaging/internal-error',
    });
  });

  it('throws when the token endpoint refuses the service account', async () => {
    const stranger = testServiceAccount(projectId); // a key the stand-in does not know
    const other = createFcmAdapter({
      serviceAccountFile: keyFile(stranger.json),
      ttlSeconds: 60,
      httpAgent: fcm.agent,
    });
    try {
      const sends = fcm.sends().length;
      await expect(other.send(push('device-token-3'))).rejects.toThrow();
      expect(fcm.sends().length).toBe(sends);
    } finally {
      await other.close();
    }
  });
});

describe('SMS through the twilio SDK', () => {
  const credentials = { accountSid: `AC${'1'.repeat(32)}`, authToken: 'twilio-test-auth-token' };
  let twilio: Awaited<ReturnType<typeof startTwilioStandIn>>;
  const sms = (to: string): OutboundMessage => ({ channel: 'sms', to, body: 'Votre code : 482913' });
  const adapterFor = (from: string) =>
    createTwilioAdapter({
      ...credentials,
      from,
      statusCallbackUrl: 'https://api.example.cm/v1/webhooks/twilio/status',
      apiBaseUrl: twilio.baseUrl,
      maxRetries: 2,
    });

  beforeAll(async () => {
    twilio = await startTwilioStandIn(credentials);
  });
  afterAll(async () => twilio?.close());

  it('posts the Messages API form with basic auth and the status callback, and answers the SID', async () => {
    const result = await adapterFor('+237650000000').send(sms('+237670000001'));
    expect(result.status).toBe('sent');
    expect(result.providerId).toMatch(/^SM[0-9a-f]{32}$/);
    const request = twilio.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${credentials.accountSid}/Messages.json`);
    expect(request.headers.authorization).toBe(
      `Basic ${Buffer.from(`${credentials.accountSid}:${credentials.authToken}`).toString('base64')}`,
    );
    expect(request.headers['content-type']).toMatch(/application\/x-www-form-urlencoded/);
    expect(request.headers['user-agent']).toMatch(/^twilio-node\//);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      To: '+237670000001',
      From: '+237650000000',
      Body: 'Votre code : 482913',
      StatusCallback: 'https://api.example.cm/v1/webhooks/twilio/status',
    });
  });

  it('sends from a Messaging Service when the sender is one (MG…)', async () => {
    await adapterFor(`MG${'2'.repeat(32)}`).send(sms('+237670000002'));
    const form = new URLSearchParams(twilio.requests.at(-1)!.body);
    expect(form.get('MessagingServiceSid')).toBe(`MG${'2'.repeat(32)}`);
    expect(form.get('From')).toBeNull();
  });

  it('answers an invalid number (21211) and a landline (21614) as permanent failures', async () => {
    const adapter = adapterFor('+237650000000');
    await expect(adapter.send(sms(TWILIO_NUMBERS.invalid))).resolves.toEqual({
      status: 'failed',
      reason: 'invalid_number (twilio 21211)',
      permanent: true,
    });
    await expect(adapter.send(sms(TWILIO_NUMBERS.notMobile))).resolves.toEqual({
      status: 'failed',
      reason: 'invalid_number (twilio 21614)',
      permanent: true,
    });
  });

  it('throws on 429 after the SDK’s own retries, and on a 5xx, for the queue to retry', async () => {
    const adapter = adapterFor('+237650000000');
    const before = twilio.requests.length;
    await expect(adapter.send(sms(TWILIO_NUMBERS.tooMany))).rejects.toMatchObject({
      status: 429,
      code: 20429,
    });
    // One request and the SDK's two retries of the 429.
    expect(twilio.requests.length - before).toBe(3);
    await expect(adapter.send(sms(TWILIO_NUMBERS.serverError))).rejects.toMatchObject({ status: 500 });
  });

  it('throws on wrong credentials (401) rather than dropping the message', async () => {
    const adapter = createTwilioAdapter({
      ...credentials,
      authToken: 'not-the-token',
      from: '+237650000000',
      apiBaseUrl: twilio.baseUrl,
    });
    await expect(adapter.send(sms('+237670000003'))).rejects.toMatchObject({ status: 401, code: 20003 });
  });

  it('throws when Twilio cannot be reached', async () => {
    const adapter = createTwilioAdapter({
      ...credentials,
      from: '+237650000000',
      apiBaseUrl: 'http://127.0.0.1:9',
    });
    await expect(adapter.send(sms('+237670000004'))).rejects.toThrow();
  });
});

describe("SMS through Africa's Talking (the local aggregator)", () => {
  const credentials = { username: 'food-delivery', apiKey: 'atsk_stand_in_key_0123456789' };
  let aggregator: Awaited<ReturnType<typeof startAfricasTalkingStandIn>>;
  const sms = (to: string): OutboundMessage => ({ channel: 'sms', to, body: 'Votre commande arrive.' });

  beforeAll(async () => {
    aggregator = await startAfricasTalkingStandIn(credentials);
  });
  afterAll(async () => aggregator?.close());

  const adapter = () =>
    createAfricasTalkingAdapter({ ...credentials, from: 'FOODCM', baseUrl: aggregator.baseUrl });

  it('posts the messaging form with the apiKey header and answers the message id', async () => {
    const result = await adapter().send(sms('+237670000010'));
    expect(result.status).toBe('sent');
    expect(result.providerId).toMatch(/^ATXid_/);
    // The recipient's `cost` ("XAF 20.0000") is the message's cost in the admin statistics.
    expect(result.costXaf).toBe(20);
    const request = aggregator.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/version1/messaging');
    expect(request.headers.apikey).toBe(credentials.apiKey);
    expect(request.headers.accept).toBe('application/json');
    expect(request.headers['content-type']).toMatch(/application\/x-www-form-urlencoded/);
    expect(Object.fromEntries(new URLSearchParams(request.body))).toEqual({
      username: credentials.username,
      to: '+237670000010',
      message: 'Votre commande arrive.',
      from: 'FOODCM',
    });
  });

  it('answers an invalid number (403) and a blacklisted one (406) as permanent', async () => {
    await expect(adapter().send(sms(AFRICASTALKING_NUMBERS.invalid))).resolves.toEqual({
      status: 'failed',
      reason: 'invalid_number (africastalking 403)',
      permanent: true,
    });
    await expect(adapter().send(sms(AFRICASTALKING_NUMBERS.blacklisted))).resolves.toMatchObject({
      status: 'failed',
      permanent: true,
    });
  });

  it('throws on an empty balance (405), a 5xx and a wrong key, for the queue to retry', async () => {
    await expect(adapter().send(sms(AFRICASTALKING_NUMBERS.noBalance))).rejects.toThrow(/405/);
    await expect(adapter().send(sms(AFRICASTALKING_NUMBERS.gatewayDown))).rejects.toMatchObject({
      status: 503,
    });
    const wrongKey = createAfricasTalkingAdapter({
      ...credentials,
      apiKey: 'wrong',
      baseUrl: aggregator.baseUrl,
    });
    await expect(wrongKey.send(sms('+237670000011'))).rejects.toMatchObject({ status: 401 });
  });
});

describe('e-mail through nodemailer over SMTP', () => {
  const credentials = { user: 'mailer', pass: 'smtp-test-password' };
  let smtp: Awaited<ReturnType<typeof startSmtpStandIn>>;
  const mail = (to: string): OutboundMessage => ({
    channel: 'email',
    to,
    subject: 'Votre reçu <commande 1042>',
    body: 'Merci pour votre commande.\n\nTotal : 5 500 FCFA & livraison offerte.',
  });
  const adapterOn = (port: number) =>
    createSmtpAdapter({ host: '127.0.0.1', port, ...credentials, from: 'Orders <no-reply@example.cm>' });

  beforeAll(async () => {
    smtp = await startSmtpStandIn(credentials);
  });
  afterAll(async () => smtp?.close());

  it('authenticates and delivers a text and an HTML part', async () => {
    const adapter = adapterOn(smtp.port);
    try {
      const result = await adapter.send(mail('client@example.cm'));
      expect(result.status).toBe('sent');
      expect(result.providerId).toMatch(/^<.+@.+>$/);
    } finally {
      adapter.close();
    }
    const received = smtp.messages.at(-1)!;
    expect(received.user).toBe(credentials.user);
    expect(received.from).toBe('no-reply@example.cm');
    expect(received.to).toEqual(['client@example.cm']);
    expect(received.raw).toMatch(/^Content-Type: multipart\/alternative/m);
    expect(received.raw).toMatch(/^Content-Type: text\/plain/m);
    expect(received.raw).toMatch(/^Content-Type: text\/html/m);
    expect(received.raw).toMatch(/^Subject: /m);
    // The HTML part escapes the text: no markup from the message itself.
    expect(received.raw).toContain('&#38; livraison offerte');
    expect(received.raw).not.toContain('<commande 1042>');
  });

  it('answers a refused recipient (550) as permanent', async () => {
    const adapter = adapterOn(smtp.port);
    try {
      await expect(adapter.send(mail(SMTP_ADDRESSES.refused))).resolves.toEqual({
        status: 'failed',
        reason: 'smtp 550',
        permanent: true,
      });
    } finally {
      adapter.close();
    }
  });

  it('throws on a temporary refusal (451) and when the server refuses the connection', async () => {
    const adapter = adapterOn(smtp.port);
    try {
      await expect(adapter.send(mail(SMTP_ADDRESSES.later))).rejects.toMatchObject({ responseCode: 451 });
    } finally {
      adapter.close();
    }
    const closed = adapterOn(9);
    try {
      await expect(closed.send(mail('client@example.cm'))).rejects.toMatchObject({ code: 'ESOCKET' });
    } finally {
      closed.close();
    }
  });
});
