/**
 * The composition root: the one place that knows every context. It builds the platform
 * (infrastructure), then every context in the list below in dependency order
 * (src/platform/assemble.ts), and hands the result to the edge: the HTTP app (src/app.ts), the
 * command-line tools and the tests. Nothing below the edge imports this file.
 *
 * Adding a context is a folder in src/modules/ that exports a definition, and one line in
 * `contexts` (docs/adding-a-context.md).
 */
import { createProjectionRunner } from '../projections/index.js';
import type { Kysely } from 'kysely';
import type { InfrastructureTables } from './db/schema.js';
import { createEventStoreService, type AppEventStore } from './eventstore/index.js';
import { purgeExpiredIdempotencyKeys } from './http/idempotency.js';
import { createJobs, type Jobs } from './jobs/index.js';
import { adminContext } from './modules/admin/index.js';
import { catalogContext } from './modules/catalog/index.js';
import { communityContext } from './modules/community/index.js';
import { filesContext } from './modules/files/index.js';
import { dispatchContext } from './modules/dispatch/index.js';
import { identityContext } from './modules/identity/index.js';
import { inventoryContext } from './modules/inventory/index.js';
import { ledgerContext } from './modules/ledger/index.js';
import { loyaltyContext } from './modules/loyalty/index.js';
import { notificationsContext } from './modules/notifications/index.js';
import { notifyContext } from './modules/notify/index.js';
import { ordersContext } from './modules/orders/index.js';
import { paymentsContext } from './modules/payments/index.js';
import { projectionsContext } from './modules/projections/index.js';
import { supportContext } from './modules/support/index.js';
import { recommendationsContext } from './modules/recommendations/index.js';
import { ussdContext } from './modules/ussd/index.js';
import { assembleContexts, projectionsOf, type AssembledContext } from './platform/assemble.js';
import type {
  AnyContextDefinition,
  Platform,
  PersonalDataHook,
  RetentionKind,
  DeclaredTables,
  ServicesOf,
  TableClashes,
  UnmetNeeds,
} from './platform/context.js';
import { createRealtime, type Realtime } from './realtime/index.js';
import type { Runtime } from './runtime.js';

/** Every bounded context, one line each; the order breaks ties of the dependency order. */
export const contexts = [
  notificationsContext,
  identityContext,
  projectionsContext,
  catalogContext,
  ledgerContext,
  paymentsContext,
  ordersContext,
  filesContext,
  notifyContext,
  dispatchContext,
  loyaltyContext,
  supportContext,
  recommendationsContext,
  ussdContext,
  communityContext,
  inventoryContext,
  adminContext,
] as const;

// Compile-time checks: every need is met by a context with the right interface, and no two
// contexts (nor a context and infrastructure) declare the same table.
const everyNeedIsMet: [UnmetNeeds<typeof contexts>] extends [never] ? true : UnmetNeeds<typeof contexts> =
  true;
const everyTableHasOneOwner: [TableClashes<typeof contexts>] extends [never]
  ? true
  : TableClashes<typeof contexts> = true;
void everyNeedIsMet;
void everyTableHasOneOwner;

/**
 * The application's database: infrastructure's tables and every context's declared tables. This
 * is the one place their types meet; a context's SQL sees only its own (`platform.db`).
 */
export type Database = InfrastructureTables & DeclaredTables<typeof contexts>;

/**
 * What the edge gets: the platform's parts, every context's service by its name
 * (`services.orders`, `services.payments`, …), and the contributions in dependency order.
 */
export type Services = {
  runtime: Runtime;
  /** The database typed against every table (the edge's view: the seed, CLIs and tests). */
  db: Kysely<Database>;
  /** The event store port (src/eventstore): PostgreSQL, or EventStoreDB when EVENTSTORE_URL is set. */
  eventStore: AppEventStore;
  /** Job queue (BullMQ on Redis, in-process without REDIS_URL) and node-cron schedules (src/jobs). */
  jobs: Jobs;
  /** WebSocket fan-out bus (src/realtime): Redis pub/sub + capped streams, in-process without Redis. */
  realtime: Realtime;
  /** The infrastructure every context was built with. */
  platform: Platform<Database>;
  /** Each context's contribution (routes, reactors, channels, seed…), in dependency order. */
  contexts: readonly AssembledContext[];
} & ServicesOf<typeof contexts>;

export interface ServicesOptions {
  /** Contexts added after the application's own (tests: a context that brings a read model). */
  extraContexts?: readonly AnyContextDefinition[];
}

/**
 * The runtime's connection typed against the whole application's tables: the one place the
 * merged type is asserted (the migrations in src/db/migrations/ create these tables).
 */
function databaseOf(runtime: Runtime): Kysely<Database> {
  return runtime.database.db as unknown as Kysely<Database>;
}

function createPlatform(runtime: Runtime, definitions: readonly AnyContextDefinition[]): Platform<Database> {
  const eventStore = createEventStoreService(runtime);
  const jobs = createJobs(runtime);
  // Idempotency keys are kept 24 h; the purge is one idempotent DELETE, harmless on every instance.
  jobs.schedule({
    name: 'idempotency-keys-purge',
    cron: '17 * * * *',
    run: async () => void (await purgeExpiredIdempotencyKeys(runtime.database.db)),
  });
  const projections = createProjectionRunner({
    db: runtime.database.db,
    store: eventStore,
    projections: projectionsOf(definitions),
    logger: runtime.logger,
  });
  const personalData = new Map<string, PersonalDataHook>();
  const retention = new Map<string, RetentionKind>();
  return {
    db: databaseOf(runtime),
    runtime,
    eventStore,
    jobs,
    projections,
    realtime: createRealtime(runtime),
    personalData,
    retention,
  };
}

/** Registers what the contexts contributed with the platform (jobs, schedules, health, personal data). */
function install(platform: Platform<Database>, assembled: readonly AssembledContext[]): void {
  for (const { name, contribution } of assembled) {
    for (const definition of contribution.jobs ?? []) platform.jobs.queue.define(definition);
    for (const schedule of contribution.schedules ?? []) platform.jobs.schedule(schedule);
    platform.runtime.readiness.push(...(contribution.health ?? []));
    if (contribution.personalData !== undefined) platform.personalData.set(name, contribution.personalData);
    for (const kind of contribution.retention ?? []) {
      if (!kind.kind.startsWith(`${name}.`) || platform.retention.has(kind.kind))
        throw new Error(`retention kind ${kind.kind}: must start with "${name}." and be unique`);
      platform.retention.set(kind.kind, kind);
    }
  }
  // Last: a context's own erasure may still read the person's events before they are shredded.
  platform.personalData.set('eventstore', {
    erase: (userId) => platform.eventStore.erasePersonalData(userId, { actorId: userId }),
  });
}

export async function createServices(runtime: Runtime, options: ServicesOptions = {}): Promise<Services> {
  const definitions: readonly AnyContextDefinition[] = [...contexts, ...(options.extraContexts ?? [])];
  const platform = createPlatform(runtime, definitions);
  const assembly = await assembleContexts(platform, definitions);
  install(platform, assembly.contexts);
  return {
    ...(assembly.services as ServicesOf<typeof contexts>),
    runtime,
    db: platform.db,
    eventStore: platform.eventStore,
    jobs: platform.jobs,
    realtime: platform.realtime,
    platform,
    contexts: assembly.contexts,
  };
}
