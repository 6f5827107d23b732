/**
 * The event store: the port (types.ts), its errors, the aggregate helper, and the factory that
 * picks the adapter from config (EVENTSTORE_URL set: EventStoreDB; unset: PostgreSQL).
 */
import type { Kysely } from 'kysely';
import type pg from 'pg';
import { masterKey, type Config } from '../config/index.js';
import { createEsdbAdapter } from './esdb/adapter.js';
import { createPersonalDataVault } from './personal-data.js';
import { createPostgresAdapter } from './postgres/adapter.js';
import { createEventStore } from './store.js';
import type { EventStoreTables } from './tables.js';
import type { EventStore } from './types.js';
import type { UpcasterRegistry } from './upcasting.js';

export * from './types.js';
export * from './errors.js';
export {
  aggregateStream,
  createAggregateCache,
  handleCommand,
  tracedDecide,
  type AggregateCache,
  type Decider,
  type HandleCommandOptions,
  type HandleCommandResult,
} from './aggregate.js';
export { comparePositions, isPosition, maxPosition } from './position.js';
export { createUpcasterRegistry, type Upcaster, type UpcasterRegistry } from './upcasting.js';
export { createEventStore } from './store.js';
export type { EventStoreTables } from './tables.js';

export type AppEventStore = EventStore & { upcasters: UpcasterRegistry };

/**
 * What the event store takes from the process's runtime (the runtime fits it): its pool, typed
 * against the store's own tables, the settings it reads, and where it registers its readiness
 * check and its closer.
 */
export interface EventStoreHost<DB extends EventStoreTables> {
  config: Pick<Config, 'EVENTSTORE_URL' | 'ENCRYPTION_KEY'>;
  database: { db: Kysely<DB>; pool: pg.Pool };
  readiness: { name: string; check(): Promise<void | { detail: string }> }[];
  closers: { name: string; close(): Promise<void> }[];
}

/** The connection string of the runtime's pool (DATABASE_URL, a test database, or embedded). */
function poolConnectionString(pool: pg.Pool): string {
  const options = (pool as unknown as { options: { connectionString?: string } }).options;
  if (options.connectionString === undefined) throw new Error('the database pool has no connection string');
  return options.connectionString;
}

export function createEventStoreForRuntime<DB extends EventStoreTables>(
  runtime: Omit<EventStoreHost<DB>, 'readiness' | 'closers'>,
): AppEventStore {
  const vault = createPersonalDataVault({ db: runtime.database.db, masterKey: masterKey(runtime.config) });
  const url = runtime.config.EVENTSTORE_URL;
  const adapter =
    url === undefined
      ? createPostgresAdapter({
          pool: runtime.database.pool,
          connectionString: poolConnectionString(runtime.database.pool),
        })
      : createEsdbAdapter({ connectionString: url });
  return createEventStore({ adapter, vault });
}

/**
 * The event store of the process: readiness check `eventstore` (reported by /health/ready) and
 * a closer registered on the runtime.
 */
export function createEventStoreService<DB extends EventStoreTables>(
  runtime: EventStoreHost<DB>,
): AppEventStore {
  const store = createEventStoreForRuntime(runtime);
  runtime.readiness.push({ name: 'eventstore', check: () => store.ping() });
  runtime.closers.push({ name: 'eventstore', close: () => store.close() });
  return store;
}
