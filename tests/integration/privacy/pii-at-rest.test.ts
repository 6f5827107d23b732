import { restaurantBody } from '../catalog/helpers.js';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encryptAddressesAtRest, encryptUsersAtRest } from '../../../src/modules/identity/pii-backfill.js';
import { encryptPaymentsAtRest } from '../../../src/modules/payments/pii-backfill.js';
import {
  createFieldCipher,
  fieldCipherOf,
  FieldDecryptionError,
} from '../../../src/platform/field-crypto.js';
import { createTestApp, type TestApp } from '../../helpers/app.js';
import { AUTH_TEST_ENV, authHeader, createUser, login, randomPhone } from '../../helpers/auth.js';
import { ownTables } from '../../../src/db/own-tables.js';
import type { Database } from '../../../src/services.js';
import type { IdentityTables } from '../../../src/modules/identity/tables.js';
import type { PaymentTables } from '../../../src/modules/payments/tables.js';

/** Issue #15 item 14: personal data at rest is ciphertext; lookups work through blind indexes. */
let testApp: TestApp;
const db = () => testApp.services.db;
const identityDb = () => ownTables<IdentityTables, Database>(testApp.services.db);

beforeAll(async () => {
  testApp = await createTestApp({ env: AUTH_TEST_ENV });
});
afterAll(async () => testApp?.close());

async function rawUser(id: string) {
  return db()
    .selectFrom('users')
    .select(['phone', 'email', 'name', 'phone_bidx', 'email_bidx', 'name_terms'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

describe('users at rest', () => {
  it('stores phone, e-mail and name as ciphertext, and signs in by phone through the blind index', async () => {
    const user = await createUser(testApp, { name: 'Aïcha Ngo Bell', email: 'Aicha.Ngo@Example.cm' });
    const raw = await rawUser(user.userId);
    for (const value of [raw.phone, raw.email, raw.name]) expect(value).toMatch(/^pii1\.dev\./);
    const everything = JSON.stringify(raw);
    expect(everything).not.toContain(user.phone.slice(4));
    expect(everything.toLowerCase()).not.toContain('aicha');
    expect(everything).not.toContain('Bell');
    // No column of the table holds the plaintext phone, whatever its name.
    const found = await sql<{
      id: string;
    }>`SELECT id FROM users WHERE users::text LIKE ${`%${user.phone.slice(4)}%`}`.execute(db());
    expect(found.rows).toEqual([]);

    // Sign-in finds the user by the blind index of the normalised number, in any spelling.
    const national = user.phone.replace('+237', '');
    const signedIn = await login(testApp, { phone: national, password: user.password });
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    const me = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: authHeader(user.accessToken),
    });
    expect(me.json()).toMatchObject({ phone: user.phone, name: 'Aïcha Ngo Bell' });
  });

  it('keeps e-mail uniqueness and the admin search on the blind indexes', async () => {
    const first = await createUser(testApp, { name: 'Paul Biya Eto', email: 'taken@example.cm' });
    const second = await createUser(testApp);
    const clash = await testApp.app.inject({
      method: 'PATCH',
      url: '/v1/me',
      headers: authHeader(second.accessToken),
      payload: { email: 'TAKEN@example.cm' },
    });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().code).toBe('email_taken');
    // The database refuses it too, even past the application's check.
    await expect(
      testApp.services.identity.repository.updateUser(second.userId, { email: 'taken@example.cm' }),
    ).rejects.toThrow(/users_email_bidx_unique/);
    await expect(
      testApp.services.identity.repository.insertUser({
        phone: first.phone,
        roles: ['customer'],
        status: 'active',
      }),
    ).rejects.toThrow(/users_phone_bidx_unique/);

    const admin = await createUser(testApp, { roles: ['admin'] });
    const search = async (q: string) =>
      (
        await testApp.app.inject({
          method: 'GET',
          url: `/v1/admin/users?q=${encodeURIComponent(q)}`,
          headers: authHeader(admin.accessToken),
        })
      )
        .json()
        .items.map((item: { id: string }) => item.id);
    expect(await search('biya')).toEqual([first.userId]);
    expect(await search('taken@example.cm')).toEqual([first.userId]);
    expect(await search(first.phone.replace('+237', '00237 '))).toEqual([first.userId]);
  });

  it('stores addresses encrypted (street, landmark, instructions, coordinates) and reads them back', async () => {
    const user = await createUser(testApp);
    const input = {
      label: 'Maison',
      line1: 'Rue Njo-Njo 14',
      city: 'Douala',
      district: 'Bonapriso',
      landmark: 'face pharmacie du Rond-point',
      latitude: 4.0243,
      longitude: 9.6952,
      instructions: 'portail bleu',
    };
    const created = await testApp.app.inject({
      method: 'POST',
      url: '/v1/me/addresses',
      headers: { ...authHeader(user.accessToken), 'idempotency-key': `address-${user.userId}` },
      payload: input,
    });
    expect(created.statusCode, created.body).toBe(201);
    // The stored idempotent answer is sealed too; a replay still answers the same address.
    const stored = await db()
      .selectFrom('idempotency_keys')
      .select('response_body')
      .where('key', '=', `address-${user.userId}`)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(stored.response_body)).toMatch(/^\{"\$sealed":"pii1\./);
    expect(JSON.stringify(stored.response_body)).not.toMatch(/Njo|pharmacie|bleu/);
    const replay = await testApp.app.inject({
      method: 'POST',
      url: '/v1/me/addresses',
      headers: { ...authHeader(user.accessToken), 'idempotency-key': `address-${user.userId}` },
      payload: input,
    });
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(replay.json()).toEqual(created.json());
    const raw = await db()
      .selectFrom('user_addresses')
      .selectAll()
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    for (const column of ['line1', 'district', 'landmark', 'instructions', 'latitude', 'longitude'] as const)
      expect(raw[column]).toMatch(/^pii1\./);
    expect(JSON.stringify(raw)).not.toMatch(/Njo|pharmacie|bleu|4\.0243|9\.6952/);
    const listed = await testApp.app.inject({
      method: 'GET',
      url: '/v1/me/addresses',
      headers: authHeader(user.accessToken),
    });
    const [address] = listed.json().items ?? listed.json();
    expect(address).toMatchObject({
      line1: 'Rue Njo-Njo 14',
      landmark: 'face pharmacie du Rond-point',
      latitude: 4.0243,
      longitude: 9.6952,
    });
    const patched = await testApp.app.inject({
      method: 'PATCH',
      url: `/v1/me/addresses/${created.json().id}`,
      headers: authHeader(user.accessToken),
      payload: { latitude: null, instructions: 'portail vert' },
    });
    expect(patched.json()).toMatchObject({ latitude: null, longitude: 9.6952, instructions: 'portail vert' });
  });

  it('the boot step encrypts rows written in clear before, and a second run finds nothing', async () => {
    const phone = randomPhone();
    const inserted = await sql<{ id: string }>`
      INSERT INTO users (phone, email, name, status, roles, phone_verified)
      VALUES (${phone}, 'legacy@example.cm', 'Legacy Customer', 'active', '{customer}', true) RETURNING id`.execute(
      db(),
    );
    const id = inserted.rows[0]!.id;
    const fields = fieldCipherOf(testApp.services.runtime.config);
    const first = await encryptUsersAtRest(identityDb(), fields);
    expect(first.encrypted).toBeGreaterThanOrEqual(1);
    const raw = await rawUser(id);
    expect(raw.phone).toMatch(/^pii1\./);
    expect(raw.phone_bidx).not.toBeNull();
    expect(JSON.stringify(raw)).not.toContain(phone.slice(4));
    expect(await testApp.services.identity.repository.findUserByPhone(phone)).toMatchObject({
      id,
      phone,
      email: 'legacy@example.cm',
      name: 'Legacy Customer',
    });
    expect((await encryptUsersAtRest(identityDb(), fields)).encrypted).toBe(0);

    await sql`INSERT INTO user_addresses (user_id, label, line1, city, latitude, longitude)
      VALUES (${id}, 'Old', 'Rue Legacy 1', 'Yaoundé', '3.8667', '11.5167')`.execute(db());
    expect((await encryptAddressesAtRest(identityDb(), fields)).encrypted).toBe(1);
    expect(await testApp.services.identity.repository.listAddresses(id, 10)).toMatchObject([
      { line1: 'Rue Legacy 1', latitude: 3.8667, longitude: 11.5167 },
    ]);
    expect((await encryptAddressesAtRest(identityDb(), fields)).encrypted).toBe(0);
  });

  it('re-encrypts under a new first key (rotation) and fails closed without the right key', async () => {
    const user = await createUser(testApp, { name: 'Rotating Key' });
    const config = testApp.services.runtime.config;
    const newKey = randomBytes(32).toString('hex');
    const rotatedConfig = { ...config, PII_ENCRYPTION_KEYS: `k2:${newKey},${config.PII_ENCRYPTION_KEYS}` };
    const rotated = fieldCipherOf(rotatedConfig);
    expect((await encryptUsersAtRest(identityDb(), rotated)).encrypted).toBeGreaterThanOrEqual(1);
    const raw = await rawUser(user.userId);
    expect(raw.phone).toMatch(/^pii1\.k2\./);
    expect(rotated.decrypt('users.phone', raw.phone)).toBe(user.phone);
    // The old ring alone no longer opens it: no plaintext, no guess, an error.
    const oldRing = fieldCipherOf(config);
    expect(() => oldRing.decrypt('users.phone', raw.phone)).toThrow(FieldDecryptionError);
    const wrong = createFieldCipher({
      keys: [{ id: 'k2', key: randomBytes(32) }],
      blindIndexKey: randomBytes(32),
    });
    expect(() => wrong.decrypt('users.phone', raw.phone)).toThrow(FieldDecryptionError);
    // Back to the app's own ring, so the other tests keep reading.
    const back = await encryptUsersAtRest(identityDb(), oldRing).catch((error: unknown) => error);
    expect(back).toBeInstanceOf(FieldDecryptionError);
    await encryptUsersAtRest(
      identityDb(),
      fieldCipherOf({ ...config, PII_ENCRYPTION_KEYS: `${config.PII_ENCRYPTION_KEYS},k2:${newKey}` }),
    );
    expect((await rawUser(user.userId)).phone).toMatch(/^pii1\.dev\./);
  });

  it('payout phones and auto top-up phones: legacy plaintext encrypted at boot, read back in clear', async () => {
    const user = await createUser(testApp, { roles: ['driver'] });
    const payoutId = crypto.randomUUID();
    await db()
      .insertInto('payouts')
      .values({
        payout_id: payoutId,
        payee_kind: 'driver',
        payee_id: user.userId,
        requested_by: user.userId,
        amount_minor: 5_000n,
        currency: 'XAF',
        phone: user.phone,
        status: 'SUCCEEDED',
      })
      .execute();
    await testApp.services.payments.wallets.ensure(user.userId, 'XAF');
    await db()
      .updateTable('wallets')
      .set({ auto_topup_phone: user.phone })
      .where('user_id', '=', user.userId)
      .execute();
    const fields = fieldCipherOf(testApp.services.runtime.config);
    expect(
      (await encryptPaymentsAtRest(ownTables<PaymentTables, Database>(db()), fields)).encrypted,
    ).toBeGreaterThanOrEqual(2);
    const payout = await db()
      .selectFrom('payouts')
      .select('phone')
      .where('payout_id', '=', payoutId)
      .executeTakeFirstOrThrow();
    const wallet = await db()
      .selectFrom('wallets')
      .select('auto_topup_phone')
      .where('user_id', '=', user.userId)
      .executeTakeFirstOrThrow();
    expect(payout.phone).toMatch(/^pii1\./);
    expect(wallet.auto_topup_phone).toMatch(/^pii1\./);
    expect((await testApp.services.payments.payouts.get(payoutId))?.phone).toBe(user.phone);
    expect((await testApp.services.payments.payouts.list('driver', user.userId))[0]?.phone).toBe(user.phone);
    expect((await encryptPaymentsAtRest(ownTables<PaymentTables, Database>(db()), fields)).encrypted).toBe(0);
  });

  it('restaurant contacts are ciphertext at rest and in clear for the owner', async () => {
    const owner = await createUser(testApp, { roles: ['customer'] });
    const created = await testApp.app.inject({
      method: 'POST',
      url: '/v1/restaurants',
      headers: authHeader(owner.accessToken),
      payload: restaurantBody({ contact: { phone: '+237670004321', email: 'mama@example.cm' } }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const raw = await db()
      .selectFrom('restaurants')
      .select(['contact_phone', 'contact_email'])
      .where('id', '=', created.json().id)
      .executeTakeFirstOrThrow();
    expect(raw.contact_phone).toMatch(/^pii1\./);
    expect(JSON.stringify(raw)).not.toMatch(/4321|mama/);
    const read = await testApp.app.inject({
      method: 'GET',
      url: `/v1/restaurants/${created.json().id}`,
      headers: authHeader(owner.accessToken),
    });
    expect(read.json().contact).toEqual({ phone: '+237670004321', email: 'mama@example.cm' });
  });
});
