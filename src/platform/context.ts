/**
 * The module contract: one door per bounded context.
 *
 * A context (a folder in src/modules/) exports one definition made with `defineContext`. It says
 *   - its `name` (the key of its service in the composition root's `Services`);
 *   - what it `needs` from other contexts to be built, each by the interface it uses (a type the
 *     provider exports from its public entry, or a port the consumer declares itself);
 *   - what it needs only `later`, when a request or a job runs (the two directions of a pair that
 *     call each other, such as orders and payments): it gets a getter, valid once every context
 *     is built;
 *   - its `projections` (read models, collected before anything is built), and `tables` (the
 *     table types its SQL is checked against);
 *   - a `create` function that gets the platform (infrastructure: config, database, event store,
 *     jobs, projection runner, real-time bus) and its needs, and returns its contribution: its
 *     service, routes, reactors, schedules, seed step, WebSocket channels, health checks and
 *     personal-data hook.
 *
 * The composition root (src/services.ts) lists the definitions, one line each; `assembleContexts`
 * (assemble.ts) builds them in dependency order and refuses to start on a missing or circular
 * need, naming it. docs/architecture.md explains the shape; docs/adding-a-context.md is the recipe.
 *
 * This file is infrastructure: it imports no context and nothing from src/http.
 */
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { ProjectionDefinition, ProjectionRunner } from '../../projections/index.js';
import type { AppEventStore } from '../eventstore/index.js';
import type { Jobs, JobDefinition, Schedule } from '../jobs/index.js';
import type { ChannelEndpoint, InboundHandler, Realtime } from '../realtime/index.js';
import type { ReadinessCheck, Runtime } from '../runtime.js';

/**
 * Infrastructure every context gets: it knows no context. `Tables` is the table map of the
 * context being built (its definition's `tables`): `db` is typed against those tables only.
 */
export interface Platform<Tables = unknown> {
  /**
   * The application's database, typed against the tables the context declared, so its SQL is
   * checked against its own tables and cannot reach another context's.
   */
  db: Kysely<Tables>;
  /**
   * Config, logger, the database pool, Redis, readiness checks and closers. Its Kysely
   * (`runtime.database.db`) is typed against infrastructure's tables only (src/db/schema.ts).
   */
  runtime: Runtime;
  /** The event store port (PostgreSQL, or EventStoreDB when EVENTSTORE_URL is set). */
  eventStore: AppEventStore;
  /** The job queue and node-cron schedules; workers start when the app is ready. */
  jobs: Jobs;
  /** The projection runner over every context's read models (started when the app is ready). */
  projections: ProjectionRunner;
  /** The WebSocket fan-out bus (Redis pub/sub and capped streams, in-process without Redis). */
  realtime: Realtime;
  /**
   * Every context's personal-data hook by context name, filled by the composition root; the
   * identity context's export and erasure walk it. Contexts contribute through `personalData`.
   */
  personalData: Map<string, PersonalDataHook>;
  /**
   * Every context's kinds of data kept for a limited time, by kind name (`<context>.<kind>`),
   * filled by the composition root; the admin context's retention job applies them (issue #23).
   */
  retention: Map<string, RetentionKind>;
}

/**
 * A kind of data a context deletes once it is older than the retention policy's period (issue
 * #23, docs/admin.md "Data retention"). Never money: the ledger, payments, payouts, settlements
 * and the event store are the legal record and register no kind.
 */
export interface RetentionKind {
  /** `<context>.<kind>`, e.g. `identity.login_attempts`. */
  kind: string;
  description: string;
  /** The period when the policy names none. */
  defaultDays: number;
  /** The shortest period an admin may set (what the context still needs the data for). */
  minimumDays: number;
  /** Deletes at most `limit` rows older than `before`; returns how many. Idempotent. */
  purge(before: Date, limit: number): Promise<number>;
}

/**
 * How the person was reachable, as identity knew it when the export or erasure began: contexts
 * that keep data by contact (the notifications outbox, by recipient) find it through these.
 */
export interface PersonalDataContacts {
  phone: string | null;
  email: string | null;
}

/**
 * A context's share of one person's data (issue #15: GDPR export and erasure). Identity's
 * `GET /v1/me/export` and `DELETE /v1/me` walk every context's hook; the subject id is the user id.
 */
export interface PersonalDataHook {
  /** What the context holds about the person, as JSON (bounded, like every export). */
  export?(subjectId: string, contacts: PersonalDataContacts): Promise<unknown>;
  /**
   * Erases or anonymises it; idempotent (a retried erasure must succeed). Money records are kept
   * (the ledger is the legal record) with their personal fields erased.
   */
  erase(subjectId: string, contacts: PersonalDataContacts): Promise<unknown>;
}

/** Long-running work: started in dependency order when the app is ready, stopped in reverse. */
export interface Reactor {
  name: string;
  start(): Promise<void>;
  stop?(): Promise<void>;
}

/** One step of the development demo seed; returns lines describing what it made. */
export interface SeedStep {
  run(): Promise<string[]>;
}

/** What a context brings to the application, returned by its `create`. */
export interface Contribution<Service> {
  /** What other contexts and the routes use (the value of `services.<name>`). */
  service: Service;
  /**
   * Its HTTP routes, registered in their own encapsulated plugin. They close over the service and
   * the needs given to `create`, never over the whole container.
   */
  routes?(app: FastifyInstance): void | Promise<void>;
  /**
   * Hooks that must cover every route (registered unencapsulated, before any context's routes):
   * only identity's authentication uses this.
   */
  httpHooks?(app: FastifyInstance): Promise<void>;
  /** Reactors, sweeps and writers that run while the app is up. */
  reactors?: readonly Reactor[];
  /** Job queues the context consumes (defined on the platform queue before workers start). */
  jobs?: readonly JobDefinition<never>[];
  /** Periodic work (node-cron); each tick should enqueue a job with a job id per time slot. */
  schedules?: readonly Schedule[];
  /** The demo seed's step; steps run in dependency order. */
  seed?: SeedStep;
  /** WebSocket endpoints (src/realtime serves them: auth at upgrade, replay, heartbeats). */
  channels?: readonly ChannelEndpoint[];
  /** Messages it accepts from clients on an endpoint (its own or another context's). */
  inbound?: readonly InboundHandler[];
  /** Readiness checks reported by /health/ready. */
  health?: readonly ReadinessCheck[];
  /** Its share of a person's data, for export and erasure. */
  personalData?: PersonalDataHook;
  /** Kinds of its data deleted after a period (the admin context's retention job applies them). */
  retention?: readonly RetentionKind[];
}

/** A need, typed by the interface the consumer uses: `needs: { catalog: need<CatalogForOrders>() }`. */
export interface Need<Interface> {
  readonly __interface?: Interface;
}

export function need<Interface>(): Need<Interface> {
  return {};
}

type NeedMap = Record<string, Need<unknown>>;
type Resolved<Needs extends NeedMap> = {
  [Name in keyof Needs]: Needs[Name] extends Need<infer I> ? I : never;
};
type Getters<Needs extends NeedMap> = { readonly [Name in keyof Needs]: () => Resolved<Needs>[Name] };

export interface ContextDefinition<
  Name extends string = string,
  Service = unknown,
  Needs extends NeedMap = NeedMap,
  Later extends NeedMap = NeedMap,
  Tables = unknown,
> {
  readonly name: Name;
  /** Contexts that must be built first, each by the interface this context uses. */
  readonly needs: Needs;
  /** Contexts used only once everything is built (calls at request or job time). */
  readonly later?: Later;
  /** Read models this context owns (registered with the projection runner). */
  readonly projections?: readonly ProjectionDefinition[];
  /**
   * Phantom: the table types this context owns (its `tables.ts`). They type `platform.db` in
   * `create`, so its SQL is checked against them alone; the composition root merges every
   * context's tables into the application's `Database` and refuses two contexts that declare
   * the same table.
   */
  readonly tables?: TablesOf<Tables>;
  create(
    platform: Platform<Tables>,
    needs: Resolved<Needs>,
    later: Getters<Later>,
  ): Contribution<Service> | Promise<Contribution<Service>>;
}

/** `tables: tablesOf<OrderTables>()` (a type marker; nothing at run time). */
export interface TablesOf<Tables> {
  readonly __tables?: Tables;
}

export function tablesOf<Tables>(): TablesOf<Tables> {
  return {};
}

/** Declares a context; the identity function exists for type inference. */
export function defineContext<
  const Name extends string,
  Service,
  Needs extends NeedMap = Record<never, Need<unknown>>,
  Later extends NeedMap = Record<never, Need<unknown>>,
  Tables = unknown,
>(
  definition: ContextDefinition<Name, Service, Needs, Later, Tables>,
): ContextDefinition<Name, Service, Needs, Later, Tables> {
  return definition;
}

// Type helpers for the composition root.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyContextDefinition = ContextDefinition<string, any, any, any, any>;

export type ServiceOf<Definition> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Definition extends ContextDefinition<string, infer Service, any, any, any> ? Service : never;

/** `{ [name]: service }` for a list of definitions. */
export type ServicesOf<Definitions extends readonly AnyContextDefinition[]> = {
  [Definition in Definitions[number] as Definition['name']]: ServiceOf<Definition>;
};

type NeedsOf<Definition> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Definition extends ContextDefinition<string, unknown, infer Needs, infer Later, any>
    ? Resolved<Needs> & Resolved<Later>
    : never;

/**
 * The needs no context in the list satisfies with the right interface, as readable strings;
 * `never` when every need is met. The composition root asserts it is `never`.
 */
export type UnmetNeeds<Definitions extends readonly AnyContextDefinition[]> = {
  [Definition in Definitions[number] as Definition['name']]: {
    [Name in keyof NeedsOf<Definition> & string]: Name extends keyof ServicesOf<Definitions>
      ? ServicesOf<Definitions>[Name] extends NeedsOf<Definition>[Name]
        ? never
        : `${Definition['name']} needs ${Name} with an interface ${Name} does not provide`
      : `${Definition['name']} needs ${Name}, which is not in the list`;
  }[keyof NeedsOf<Definition> & string];
}[Definitions[number]['name']];

type TablesOfEach<Definition> = Definition extends { tables?: TablesOf<infer Tables> }
  ? (tables: Tables) => void
  : never;

/** The intersection of the tables every context in the list declared. */
export type DeclaredTables<Definitions extends readonly AnyContextDefinition[]> =
  TablesOfEach<Definitions[number]> extends (tables: infer Tables) => void ? Tables : never;

type TableNamesOf<Definition> =
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  Definition extends ContextDefinition<string, any, any, any, infer Tables>
    ? unknown extends Tables
      ? never
      : keyof Tables & string
    : never;

/**
 * The tables two contexts of the list both declare, as readable strings; `never` when each table
 * has one owner. The composition root asserts it is `never`: a context reaches another's data
 * through its service, never its tables.
 */
export type TableClashes<Definitions extends readonly AnyContextDefinition[]> = {
  [Definition in Definitions[number] as Definition['name']]: {
    [Other in Exclude<Definitions[number], Definition> as Other['name']]: TableNamesOf<Definition> &
      TableNamesOf<Other> extends infer Shared extends string
      ? [Shared] extends [never]
        ? never
        : `${Definition['name']} and ${Other['name']} both declare the table ${Shared}`
      : never;
  }[Exclude<Definitions[number], Definition>['name']];
}[Definitions[number]['name']];
