import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

/** Sessions that start together on a database with no signing key yet (a fresh deployment). */
let testApp: TestApp;
beforeAll(async () => {
  testApp = await createTestApp({ env: { MAX_EVENT_LOOP_DELAY_MS: '0' } });
});
afterAll(async () => testApp?.close());

describe('signing keys', () => {
  it('twenty concurrent first signings make one key, and every caller gets it', async () => {
    const { db } = testApp.services;
    const count = async () =>
      Number(
        (
          await db
            .selectFrom('signing_keys')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    expect(await count()).toBe(0); // nothing made a key before this test
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => testApp.services.identity.keyRing.signingKey()),
    );
    expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
    expect(await count()).toBe(1);
  });
});
