import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * /health/ready tells the truth about the ledger (docs/ledger.md, "Several instances"): an
 * instance whose writer does not hold the lease is ready only if the holder answers it. Here the
 * lease is held by a session that serves nothing (a stuck holder): the check fails, and passes
 * once the lease is free and this instance's writer takes it.
 */
let database: TestDatabase | undefined;
let testApp: TestApp | undefined;
let squatter: pg.Client | undefined;
afterAll(async () => {
  await squatter?.end().catch(() => undefined);
  await testApp?.close();
});

describe('/health/ready and the ledger', () => {
  it(
    'fails while no writer answers this instance, and passes once one does',
    { timeout: 60_000 },
    async () => {
      database = await createTestDatabase();
      squatter = new pg.Client({ connectionString: database.url });
      await squatter.connect();
      await squatter.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', ['ledger-writer:ledger-main']);
      testApp = await createTestApp({ database });

      const stuck = await testApp.app.inject({ method: 'GET', url: '/health/ready' });
      expect(stuck.statusCode).toBe(503);
      expect(stuck.json()).toMatchObject({ status: 'unavailable', failed: ['ledger'] });
      expect(stuck.json().checks).toContainEqual(expect.objectContaining({ name: 'ledger', ok: false }));

      await squatter.end();
      squatter = undefined;
      const deadline = Date.now() + 15_000;
      let status = 0;
      while (Date.now() < deadline && status !== 200) {
        status = (await testApp.app.inject({ method: 'GET', url: '/health/ready' })).statusCode;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      expect(testApp.services.ledger.writer.ready()).toBe(true);
    },
  );
});
