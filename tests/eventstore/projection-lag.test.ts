import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProjectionRunner, type ProjectionRunner } from '../../projections/runner.js';
import type { ProjectionDefinition } from '../../projections/types.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import type { EventStore } from '../../src/eventstore/index.js';
import { listProjections } from '../../src/modules/projections/service.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

/**
 * Issue #16: `projections -- status` showed lag while `/metrics` showed 0. The server's figure
 * came from its subscription's position in memory (ahead of the stored checkpoint over events the
 * projection's filter skips), the CLI's from the checkpoint over every event. Lag now comes from
 * one function over committed state (`projectionLag`): a process following the projection (the
 * server, whose /metrics reads `runner.status()`) and one that is not (the CLI, through
 * `listProjections`) give the same figure.
 */
const projection: ProjectionDefinition = {
  name: 'lag_orders_seen',
  version: 1,
  tables: ['lag_orders_seen'],
  filter: { streamPrefixes: ['lagorder-'] },
  setup: async ({ db, schema }) =>
    void (await sql`CREATE TABLE ${sql.id(schema, 'lag_orders_seen')} (stream text)`.execute(db)),
  handle: async (event, { db, schema }) =>
    void (await sql`INSERT INTO ${sql.id(schema, 'lag_orders_seen')} VALUES (${event.stream})`.execute(db)),
};

let database: TestDatabase;
let store: EventStore;
let server: ProjectionRunner;
let cli: ProjectionRunner;
beforeAll(async () => {
  database = await createTestDatabase();
  store = createEventStore({
    adapter: createPostgresAdapter({ pool: database.pool, connectionString: database.url }),
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
  server = createProjectionRunner({ db: database.db, store, projections: [projection] });
  cli = createProjectionRunner({ db: database.db, store, projections: [projection] });
});
afterAll(async () => {
  await server?.stop();
  await store?.close();
  await database?.drop();
});

async function lagSeen() {
  const following = (await server.status()).find((item) => item.name === projection.name)!;
  const listed = (await listProjections(cli)).items.find((item) => item.name === projection.name)!;
  return { server: following.lagEvents, cli: listed.lagEvents, running: following.running };
}

async function until(condition: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('projection lag: one figure, whichever process asks', () => {
  it('is 0 for both once caught up, though many events the projection does not read came after', async () => {
    await store.append('lagorder-1', [{ type: 'Placed', data: {} }]);
    await server.start();
    await server.waitUntilCaughtUp(projection.name);
    for (let index = 0; index < 40; index += 1) {
      await store.append(`lagother-${index}`, [{ type: 'Unrelated', data: {} }]);
    }
    expect(await lagSeen()).toEqual({ server: 0, cli: 0, running: true });
  });

  it('counts the same events for both while the projection is behind, and lagSeconds agree', async () => {
    await server.stop();
    for (let index = 2; index <= 4; index += 1) {
      await store.append(`lagorder-${index}`, [{ type: 'Placed', data: {} }]);
      await store.append(`lagother-x${index}`, [{ type: 'Unrelated', data: {} }]);
    }
    expect(await lagSeen()).toEqual({ server: 3, cli: 3, running: false });
    const [following] = await server.status();
    const [listed] = (await listProjections(cli)).items;
    expect(following!.lagSeconds).toBe(listed!.lagSeconds);
    expect(following!.lagSeconds).toBeGreaterThanOrEqual(0);
  });

  it('falls back to 0 for both once the projection has applied them', async () => {
    await server.start();
    await until(async () => (await lagSeen()).server === 0);
    expect(await lagSeen()).toEqual({ server: 0, cli: 0, running: true });
    const rows = await sql<{ count: number }>`SELECT count(*)::int AS count FROM lag_orders_seen`.execute(
      database.db,
    );
    expect(rows.rows[0]!.count).toBe(4);
  });
});
