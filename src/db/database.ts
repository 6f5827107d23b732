import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { InfrastructureTables } from './schema.js';

// int8 (OID 20) arrives as BigInt: money and positions must never pass through a float.
pg.types.setTypeParser(20, (value) => BigInt(value));
// numeric (OID 1700) stays a string: rates are handled with decimal.js, never as floats.
pg.types.setTypeParser(1700, (value) => value);

/** The runtime's connection, typed against infrastructure's tables only (src/db/schema.ts). */
export type Db = Kysely<InfrastructureTables>;

/**
 * A pool and its Kysely. `DB` is the table map the handle is typed against: infrastructure's by
 * default; the composition root and tests type theirs against the whole application's `Database`.
 */
export interface DatabaseHandle<DB = InfrastructureTables> {
  db: Kysely<DB>;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface PoolOptions {
  connectionString: string;
  max?: number;
  applicationName?: string;
}

export function createPool(options: PoolOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'food-delivery',
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // Appends and projections run in short transactions; a stuck one must not hold back
    // the event store's snapshot horizon (docs/architecture.md, decision 2).
    options: '-c idle_in_transaction_session_timeout=30000 -c statement_timeout=60000',
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  // Nor may a checked-out one (the pool listens only to idle clients): a connection lost between
  // two statements of a transaction would be an uncaught exception. Its next statement fails
  // instead (answered 503 at the edge) and the pool discards it when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

export function createDatabase<DB = InfrastructureTables>(options: PoolOptions): DatabaseHandle<DB> {
  const pool = createPool(options);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  let closed = false;
  return {
    db,
    pool,
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
