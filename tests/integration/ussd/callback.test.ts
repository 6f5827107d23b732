/**
 * The USSD callback's edges (issue #25): the aggregator's secret and address, garbage, NUL bytes
 * and huge inputs refused with problem+json and nothing stored, sessions that expire after two
 * minutes and resume at the same step when the customer dials again, pages of dishes, wrong PINs
 * and the lockout, and erasure of a person's USSD data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authHeader, createUser } from '../../helpers/auth.js';
import { post } from '../catalog/helpers.js';
import { placeOrder, type OrderWorld } from '../orders/helpers.js';
import { age, callback, dial, fund, phoneOf, until, USSD_PATH, ussdWorld } from './helpers.js';

let world: OrderWorld;

beforeAll(async () => {
  world = await ussdWorld({ USSD_PIN_MAX_ATTEMPTS: '3', USSD_ALLOWED_IPS: '127.0.0.1,10.0.0.7' });
  // Five more dishes: the restaurant's menu takes two pages of four.
  const menu = (
    await world.testApp.app.inject({ method: 'GET', url: `/v1/restaurants/${world.restaurantId}/menu` })
  ).json() as { categories: { id: string }[] };
  for (const name of ['Poulet DG', 'Eru', 'Koki', 'Achu', 'Mbongo tchobi'])
    await post(
      world.testApp,
      `/v1/restaurants/${world.restaurantId}/menu/items`,
      world.actors.owner.accessToken,
      { categoryId: menu.categories[0]!.id, name: { fr: name }, price: 3000 },
    );
}, 120_000);

afterAll(async () => {
  await world?.testApp.close();
});

const PIN = '4826';
const fields = (overrides: Record<string, string> = {}) => ({
  sessionId: `ATUid_${Math.random().toString(36).slice(2)}`,
  serviceCode: '*123#',
  phoneNumber: phoneOf('MTN'),
  networkCode: '62401',
  text: '',
  ...overrides,
});

async function subscribers() {
  const row = await world.testApp.services.db
    .selectFrom('ussd_subscribers')
    .select((builder) => builder.fn.countAll<string>().as('count'))
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/** A customer with an order behind them and a USSD PIN, answering the dial at the menu. */
async function member(language: '1' | '2' = '2') {
  const phone = phoneOf('MTN');
  const customer = await createUser(world.testApp, { phone, roles: ['customer'] });
  await fund(world, customer.userId);
  const placed = await placeOrder(world, customer.accessToken);
  expect(placed.statusCode, placed.body).toBe(201);
  await until(
    () => world.testApp.services.orders.repository.list({ customerId: customer.userId }, {}),
    (list) => list.items.length > 0,
  );
  const session = dial(world, phone);
  await session.send();
  await session.send(language);
  await session.send(PIN);
  expect(await session.send(PIN)).toMatch(/^CON 1\. /);
  return { customer, phone, session };
}

function expectProblem(
  response: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
) {
  expect(response.statusCode, response.body).toBe(status);
  expect(String(response.headers['content-type'])).toContain('application/problem+json');
  return JSON.parse(response.body) as { code: string; detail: string };
}

describe('USSD callback: who may call', () => {
  it('refuses a missing or wrong key (401) and takes it from the URL or the X-Ussd-Key header', async () => {
    const before = await subscribers();
    expect(expectProblem(await callback(world, fields(), { key: null }), 401).code).toBe('ussd_key_invalid');
    expect(expectProblem(await callback(world, fields(), { key: 'wrong-key-wrong-key' }), 401).code).toBe(
      'ussd_key_invalid',
    );
    const header = await callback(world, fields(), {
      key: null,
      headers: { 'x-ussd-key': 'ussd-test-secret-0123456789' },
    });
    expect(header.statusCode).toBe(200);
    expect(header.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(header.body.startsWith('CON ')).toBe(true);
    expect(await subscribers()).toBe(before);
  });

  it('refuses an address outside USSD_ALLOWED_IPS (403), even with the key', async () => {
    const outside = await world.testApp.app.inject({
      method: 'POST',
      url: `${USSD_PATH}?key=ussd-test-secret-0123456789`,
      remoteAddress: '10.0.0.8',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields()).toString(),
    });
    expect(expectProblem(outside, 403).code).toBe('ussd_caller_refused');
    const listed = await world.testApp.app.inject({
      method: 'POST',
      url: `${USSD_PATH}?key=ussd-test-secret-0123456789`,
      remoteAddress: '10.0.0.7',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(fields()).toString(),
    });
    expect(listed.statusCode, listed.body).toBe(200);
  });
});

describe('USSD callback: bad input changes nothing', () => {
  it('answers 400 problem+json for missing fields, null-like values, a bad phone, a bad code or session id', async () => {
    const before = await subscribers();
    const cases: Record<string, string>[] = [
      { serviceCode: '*123#', phoneNumber: '+237670000001', text: '' },
      { sessionId: 's1', phoneNumber: '+237670000001' },
      { sessionId: 's1', serviceCode: '*123#' },
      fields({ phoneNumber: 'null' }),
      fields({ phoneNumber: '12' }),
      fields({ phoneNumber: '+2376700000011111111111111' }),
      fields({ serviceCode: 'DROP TABLE' }),
      fields({ sessionId: 'a b c' }),
      fields({ sessionId: '' }),
    ];
    for (const body of cases) expectProblem(await callback(world, body), 400);
    // The JSON null that a form cannot carry, sent as JSON.
    const json = await world.testApp.app.inject({
      method: 'POST',
      url: `${USSD_PATH}?key=ussd-test-secret-0123456789`,
      payload: { sessionId: null, serviceCode: '*123#', phoneNumber: '+237670000001', text: null },
    });
    expectProblem(json, 400);
    expect(await subscribers()).toBe(before);
  });

  it('refuses NUL bytes anywhere in the form (400 invalid_characters)', async () => {
    for (const body of [
      fields({ text: '1\u00002' }),
      fields({ sessionId: 'abc\u0000' }),
      fields({ phoneNumber: '+23767\u00000000000' }),
    ])
      expect(expectProblem(await callback(world, body), 400).code).toBe('invalid_characters');
  });

  it('refuses a huge text (400) and a huge form (413), and a text of too many inputs', async () => {
    expectProblem(await callback(world, fields({ text: '1'.repeat(600) })), 400);
    expectProblem(await callback(world, fields({ text: '1*'.repeat(100) + '1' })), 400);
    const huge = await callback(world, fields({ text: '1'.repeat(20_000) }));
    expect([400, 413]).toContain(huge.statusCode);
    expect(String(huge.headers['content-type'])).toContain('application/problem+json');
  });

  it('treats letters, symbols and empty inputs as an invalid choice on the same screen', async () => {
    const { session } = await member();
    for (const garbage of ['abc', '', '#', '12345678901', 'é']) {
      const screen = await session.send(garbage);
      expect(screen).toMatch(/^CON Invalid choice\.\n1\. Reorder/);
    }
    expect(await session.send('0')).toBe('END Thank you, see you soon!');
    // After END nothing more happens on this dial, whatever comes.
    expect(await session.send('1')).toBe('END Thank you, see you soon!');
  });
});

describe('USSD sessions', () => {
  it('ends a dial idle for more than 2 minutes and resumes it at the same step on the next dial', async () => {
    const { phone, session } = await member();
    await session.send('2');
    const dishes = await session.send('1');
    expect(dishes).toMatch(/^CON .+:\n1\. /);
    await age(world, phone, 121);
    expect(await session.send('1')).toBe(
      'END Session expired. Dial the code again to continue where you were.',
    );
    const again = dial(world, phone);
    const resumed = await again.send();
    expect(resumed).toBe(`CON Resuming your session.\n${dishes.slice(4)}`);
    expect(await again.send('1')).toMatch(/\nQuantity \(1-20\):$/);
  });

  it('starts afresh when the customer dials again after the resume window', async () => {
    const { phone, session } = await member();
    await session.send('2');
    await session.send('1');
    await age(world, phone, 301);
    expect(await dial(world, phone).send()).toBe(
      'CON 1. Reorder\n2. Restaurants\n3. My last order\n4. Language\n0. Exit',
    );
  });

  it('pages through dishes four at a time and back', async () => {
    const { session } = await member();
    await session.send('2');
    const first = await session.send('1');
    expect(first.split('\n').filter((line) => /^[1-8]\. /.test(line))).toHaveLength(4);
    expect(first.endsWith('9. More 0. Back')).toBe(true);
    const second = await session.send('9');
    expect(second).not.toBe(first);
    expect(second.split('\n').filter((line) => /^[1-8]\. /.test(line)).length).toBeGreaterThan(0);
    expect(await session.send('0')).toBe(first);
  });

  it('counts wrong PINs at the confirmation and locks the USSD account at the limit', async () => {
    const { customer, session } = await member('1');
    await session.send('1');
    await session.send('1');
    await session.send('1');
    expect(await session.send('1')).toMatch(/^CON Total /);
    expect(await session.send('9999')).toMatch(/^CON PIN erroné, 2 essai\(s\)\.\nTotal /);
    expect(await session.send('9998')).toMatch(/^CON PIN erroné, 1 essai\(s\)\.\nTotal /);
    expect(await session.send('9997')).toBe('END Trop de codes PIN erronés. Réessayez dans 30 min.');
    // Locked: even the right PIN on a new dial is refused until the lock ends; no order was placed.
    const again = dial(world, customer.phone);
    await again.send('1');
    await again.send('1');
    await again.send('1');
    await again.send('1');
    expect(await again.send(PIN)).toMatch(/^END Trop de codes PIN erronés/);
    const orders = await world.testApp.services.orders.repository.list({ customerId: customer.userId }, {});
    expect(orders.items).toHaveLength(1);
    const audit = await world.testApp.services.db
      .selectFrom('audit_logs')
      .select('action')
      .where('subject_user_id', '=', customer.userId)
      .where('action', '=', 'ussd.pin_locked')
      .execute();
    expect(audit).toHaveLength(1);
  });

  it('shows only the caller’s own orders, and the status of the last one', async () => {
    const { phone, session } = await member();
    const other = await createUser(world.testApp, { phone: phoneOf('MTN'), roles: ['customer'] });
    await fund(world, other.userId);
    const theirs = await placeOrder(world, other.accessToken);
    expect(theirs.statusCode).toBe(201);
    const recent = await session.send('1');
    expect(recent.split('\n').filter((line) => /^[1-8]\. /.test(line))).toHaveLength(1);
    expect(await session.send('0')).toMatch(/^CON 1\. Reorder/);
    // A new dial from the menu starts at the menu (nothing to resume): 3 is the last order.
    const status = await dial(world, phone).send('3');
    expect(status).toMatch(/^END Order [0-9A-F]{8} \(.+\): sent to the restaurant\.$/);
  });
});

describe('SMS commands (incoming SMS)', () => {
  const inbound = (body: Record<string, string>, key: string | null = 'ussd-test-secret-0123456789') =>
    world.testApp.app.inject({
      method: 'POST',
      url: key === null ? '/v1/sms/inbound/africastalking' : `/v1/sms/inbound/africastalking?key=${key}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(body).toString(),
    });
  const smsTo = (phone: string) =>
    world.testApp.services.notifications.outbox!.list({ to: phone, channel: 'sms' });

  it('answers STATUS with the last order by SMS, in the customer’s language, and how to use it otherwise', async () => {
    const { phone } = await member('1');
    const status = await inbound({ from: phone, to: '21212', text: 'statut', id: 'ATXid_1' });
    expect(status.statusCode, status.body).toBe(200);
    expect(status.json()).toEqual({ received: true, replied: true });
    const help = await inbound({ from: phone, to: '21212', text: 'bonjour' });
    expect(help.json()).toEqual({ received: true, replied: true });
    const bodies = (await smsTo(phone)).map((message) => message.body);
    expect(bodies).toContainEqual(
      expect.stringMatching(/^Commande [0-9A-F]{8} \(.+\): envoyée au restaurant\.$/),
    );
    expect(bodies).toContain('Envoyez STATUT pour suivre votre dernière commande, ou composez *123#.');
  });

  it('tells an unknown number to dial, caps replies per number, and refuses a wrong key or a bad number', async () => {
    const phone = phoneOf('ORANGE');
    for (let index = 0; index < 5; index += 1)
      expect((await inbound({ from: phone, text: 'STATUS' })).json()).toEqual({
        received: true,
        replied: true,
      });
    expect((await inbound({ from: phone, text: 'STATUS' })).json()).toEqual({
      received: true,
      replied: false,
    });
    const sent = await smsTo(phone);
    expect(sent).toHaveLength(5);
    expect(sent[0]!.body).toBe('Aucun compte pour ce numéro. Composez *123# pour commander.');
    expect(expectProblem(await inbound({ from: phone, text: 'STATUS' }, null), 401).code).toBe(
      'ussd_key_invalid',
    );
    expectProblem(await inbound({ from: 'not a phone', text: 'STATUS' }), 400);
    expectProblem(await inbound({ from: phone, text: 'STATUS\u0000' }), 400);
    expectProblem(await inbound({ text: 'STATUS' }), 400);
    expect(await smsTo(phone)).toHaveLength(5);
  });
});

describe('USSD personal data', () => {
  it('logs neither the key, the calling number nor the inputs (they hold the PIN)', async () => {
    const { phone, session } = await member();
    await session.send('1');
    const logs = JSON.stringify(world.testApp.logs);
    // The callbacks are logged (with the key masked), so the absences below mean something.
    expect(logs).toContain('/v1/ussd/africastalking?key=%5Bredacted%5D');
    expect(logs).not.toContain('ussd-test-secret-0123456789');
    expect(logs).not.toContain(phone);
    expect(logs).not.toContain(phone.slice(1));
    expect(logs).not.toContain(`*${PIN}*${PIN}`);
  });

  it('erases the USSD PIN with the account (DELETE /v1/me)', async () => {
    const { customer } = await member();
    const count = async () =>
      (
        await world.testApp.services.db
          .selectFrom('ussd_subscribers')
          .select('user_id')
          .where('user_id', '=', customer.userId)
          .execute()
      ).length;
    expect(await count()).toBe(1);
    const exported = await world.testApp.app.inject({
      method: 'GET',
      url: '/v1/me/export',
      headers: authHeader(customer.accessToken),
    });
    expect(exported.statusCode, exported.body).toBe(200);
    expect(exported.body).toContain('"pinSet":true');
    expect(exported.body).not.toContain('$argon2');
    const erased = await world.testApp.app.inject({
      method: 'DELETE',
      url: '/v1/me',
      headers: authHeader(customer.accessToken),
      payload: { password: customer.password },
    });
    expect(erased.statusCode, erased.body).toBeLessThan(300);
    await until(count, (value) => value === 0);
  });
});
