/**
 * SMS commands beyond Africa's Talking (issue #25, docs/ussd.md "SMS commands"): Twilio's
 * incoming SMS, signed per Twilio's documented scheme (HMAC-SHA1 of the URL and the sorted
 * parameters, keyed with the auth token, base64; computed here by hand, not by the SDK the route
 * uses), runs the same STOP/START/STATUS rule; and a STOP from a number without an account is
 * remembered (by the number's blind index) and applied to the account created for it later.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuest, createUser } from '../../helpers/auth.js';
import type { OrderWorld } from '../orders/helpers.js';
import { dial, phoneOf, USSD_SECRET, ussdWorld } from './helpers.js';

const AUTH_TOKEN = 'twilio-test-auth-token-0123456789';
const PATH = '/v1/sms/inbound/twilio';
let world: OrderWorld;
let publicUrl: string;

beforeAll(async () => {
  world = await ussdWorld({ TWILIO_AUTH_TOKEN: AUTH_TOKEN });
  publicUrl = `${world.testApp.services.runtime.config.PUBLIC_BASE_URL.replace(/\/+$/, '')}${PATH}`;
}, 120_000);

afterAll(async () => {
  await world?.testApp.close();
});

/** Twilio's documented signature: the URL, then each parameter name and value sorted by name. */
function twilioSignature(token: string, url: string, params: Record<string, string>): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

const messageSid = () => `SM${randomBytes(16).toString('hex')}`;

function twilioPost(params: Record<string, string>, signature?: string | null) {
  const signed = signature === undefined ? twilioSignature(AUTH_TOKEN, publicUrl, params) : signature;
  return world.testApp.app.inject({
    method: 'POST',
    url: PATH,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...(signed === null ? {} : { 'x-twilio-signature': signed }),
    },
    payload: new URLSearchParams(params).toString(),
  });
}

const twilioSms = (from: string, body: string) => ({
  MessageSid: messageSid(),
  AccountSid: 'AC00000000000000000000000000000000',
  From: from,
  To: '+15005550006',
  Body: body,
  NumMedia: '0',
});

const atSms = (from: string, text: string) =>
  world.testApp.app.inject({
    method: 'POST',
    url: `/v1/sms/inbound/africastalking?key=${USSD_SECRET}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ from, to: '21212', text }).toString(),
  });

const smsTo = (phone: string) =>
  world.testApp.services.notifications.outbox!.list({ to: phone, channel: 'sms', limit: 100 });

async function smsSwitches(phone: string) {
  const user = await world.testApp.services.identity.repository.findUserByPhone(phone);
  const stored = (user?.notification_preferences ?? {}) as Record<string, { sms?: boolean } | undefined>;
  return {
    order_updates: stored.order_updates?.sms ?? true,
    wallet: stored.wallet?.sms ?? true,
    promotions: stored.promotions?.sms ?? false,
  };
}

async function audits(userId: string, action: string) {
  return world.testApp.services.db
    .selectFrom('audit_logs')
    .select(['action'])
    .where('subject_user_id', '=', userId)
    .where('action', '=', action)
    .execute();
}

describe('Twilio incoming SMS commands', () => {
  it('runs STOP and START from a signed post: preferences switched and audited, answered by SMS, TwiML empty', async () => {
    const phone = phoneOf('MTN');
    const customer = await createUser(world.testApp, { phone, roles: ['customer'] });
    const stop = await twilioPost(twilioSms(phone, 'STOP'));
    expect(stop.statusCode, stop.body).toBe(200);
    expect(String(stop.headers['content-type'])).toContain('text/xml');
    expect(stop.body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response></Response>');
    expect(await smsSwitches(phone)).toEqual({ order_updates: false, wallet: false, promotions: false });
    expect(await audits(customer.userId, 'notifications.sms_opted_out')).toHaveLength(1);
    // Twilio retries a webhook that timed out: the same message again is not answered again…
    const first = twilioSms(phone, 'stop');
    expect((await twilioPost(first)).statusCode).toBe(200);
    expect((await twilioPost(first)).statusCode).toBe(200);
    // …and another STOP changes and audits nothing (it is answered).
    expect(await audits(customer.userId, 'notifications.sms_opted_out')).toHaveLength(1);

    expect((await twilioPost(twilioSms(phone, 'Démarrer'))).statusCode).toBe(200);
    expect(await smsSwitches(phone)).toEqual({ order_updates: true, wallet: true, promotions: false });
    expect(await audits(customer.userId, 'notifications.sms_opted_in')).toHaveLength(1);
    const bodies = (await smsTo(phone)).map((message) => message.body);
    // STOP, the second STOP (not its retry) and START: three answers.
    expect(bodies).toEqual(
      expect.arrayContaining([
        'Vous ne recevrez plus de SMS sur vos commandes. Envoyez START pour les reprendre.',
        'Vous recevrez de nouveau le suivi de vos commandes par SMS. Envoyez STOP pour arrêter.',
      ]),
    );
    expect(bodies).toHaveLength(3);
  });

  it('refuses an unsigned, wrongly signed or tampered post (403) and changes nothing', async () => {
    const phone = phoneOf('ORANGE');
    await createUser(world.testApp, { phone, roles: ['customer'] });
    const params = twilioSms(phone, 'STOP');
    const refusals = [
      await twilioPost(params, null),
      await twilioPost(params, 'not-a-signature'),
      await twilioPost(params, twilioSignature('another-token-0123456789', publicUrl, params)),
      // Signed for another URL (our support intake's), replayed here.
      await twilioPost(
        params,
        twilioSignature(AUTH_TOKEN, publicUrl.replace(PATH, '/v1/webhooks/twilio/sms'), params),
      ),
      // Signed, then the text changed on the way.
      await twilioPost({ ...params, Body: 'START' }, twilioSignature(AUTH_TOKEN, publicUrl, params)),
    ];
    for (const response of refusals) {
      expect(response.statusCode, response.body).toBe(403);
      expect(String(response.headers['content-type'])).toContain('application/problem+json');
      expect(response.json().code).toBe('sms_signature_invalid');
    }
    expect(await smsSwitches(phone)).toEqual({ order_updates: true, wallet: true, promotions: false });
    expect(await smsTo(phone)).toHaveLength(0);
  });

  it('answers 400 problem+json for a signed post that is no SMS (bad number, NUL byte, missing field, huge text)', async () => {
    const phone = phoneOf('MTN');
    const cases = [
      twilioSms('not a phone', 'STOP'),
      twilioSms(phone, 'STOP\u0000'),
      { MessageSid: messageSid(), From: phone },
      twilioSms(phone, 'x'.repeat(1_601)),
      { ...twilioSms(phone, 'STOP'), MessageSid: 'SM-not-a-sid' },
    ];
    for (const params of cases) {
      const response = await twilioPost(params as Record<string, string>);
      expect(response.statusCode, response.body).toBe(400);
      expect(String(response.headers['content-type'])).toContain('application/problem+json');
    }
    expect(await world.testApp.services.identity.repository.hasSmsOptOut(phone)).toBe(false);
    expect(await smsTo(phone)).toHaveLength(0);
  });
});

describe('STOP from a number without an account', () => {
  it('is remembered (no answer) and applied to the account the number registers over USSD later', async () => {
    const phone = phoneOf('MTN');
    const stop = await twilioPost(twilioSms(phone, 'STOP'));
    expect(stop.statusCode, stop.body).toBe(200);
    const { repository } = world.testApp.services.identity;
    expect(await repository.hasSmsOptOut(phone)).toBe(true);
    // Nothing is stored that names the number: the list holds its keyed blind index only.
    const rows = await world.testApp.services.db.selectFrom('sms_opt_outs').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain(phone.slice(1));
    expect(await smsTo(phone)).toHaveLength(0);

    const session = dial(world, phone);
    await session.send();
    await session.send('1');
    await session.send('2580');
    expect(await session.send('2580')).toMatch(/^CON /);
    const user = await repository.findUserByPhone(phone);
    expect(user?.status).toBe('active');
    expect(await smsSwitches(phone)).toEqual({ order_updates: false, wallet: false, promotions: false });
    // Applied once: the list no longer holds it, and a START from the account turns SMS back on.
    expect(await repository.hasSmsOptOut(phone)).toBe(false);
    expect((await atSms(phone, 'START')).statusCode).toBe(200);
    expect(await smsSwitches(phone)).toEqual({ order_updates: true, wallet: true, promotions: false });
  });

  it('is applied to an account created by the app or a guest checkout too; START before it forgets the STOP', async () => {
    const phone = phoneOf('ORANGE');
    expect((await atSms(phone, 'arrêt')).json()).toEqual({ received: true, replied: false });
    expect((await atSms(phone, 'STOP')).json()).toEqual({ received: true, replied: false });
    await createUser(world.testApp, { phone, roles: ['customer'] });
    expect(await smsSwitches(phone)).toEqual({ order_updates: false, wallet: false, promotions: false });

    const other = phoneOf('MTN');
    await atSms(other, 'STOP');
    await twilioPost(twilioSms(other, 'START'));
    const { repository } = world.testApp.services.identity;
    expect(await repository.hasSmsOptOut(other)).toBe(false);
    await createUser(world.testApp, { phone: other, roles: ['customer'] });
    expect(await smsSwitches(other)).toEqual({ order_updates: true, wallet: true, promotions: false });
  });

  it('stays when the account cannot be created: the delete and the insert are one statement', async () => {
    const phone = phoneOf('MTN');
    const { repository } = world.testApp.services.identity;
    await createUser(world.testApp, { phone, roles: ['customer'] });
    // A STOP that raced the account's creation (read before it existed) is remembered…
    await repository.rememberSmsOptOut(phone);
    // …and a second insert for the number is refused by the blind index's uniqueness: rolled back whole.
    await expect(
      repository.insertUser({ phone, roles: ['customer'], status: 'active', phoneVerified: true }),
    ).rejects.toThrow();
    expect(await repository.hasSmsOptOut(phone)).toBe(true);
  });

  it('a guest of the number (no active account) is switched off directly', async () => {
    const phone = phoneOf('MTN');
    await createGuest(world.testApp, { phone });
    expect((await atSms(phone, 'STOP')).statusCode).toBe(200);
    expect(await smsSwitches(phone)).toEqual({ order_updates: false, wallet: false, promotions: false });
    expect(await world.testApp.services.identity.repository.hasSmsOptOut(phone)).toBe(false);
  });
});
