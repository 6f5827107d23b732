import type { Kysely, Transaction } from 'kysely';
import type { Logger } from 'pino';
import { ownTables } from '../src/db/own-tables.js';
import { isDependencyOutage } from '../src/shared/outage.js';
import { streamsAttribute, traced } from '../src/telemetry/tracing.js';
import {
  comparePositions,
  maxPosition,
  type EventFilter,
  type EventStore,
  type Position,
  type RecordedEvent,
  type Subscription,
} from '../src/eventstore/index.js';
import * as repository from './repository.js';
import type { GenerationRow } from './repository.js';
import type { ProjectionTables } from './tables.js';
import type { ProjectionDefinition, ProjectionStatus } from './types.js';

const NAME_PATTERN = /^[a-z][a-z0-9_]{0,39}$/;
const TABLE_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
/** Pages read inside the swap transaction; the building generation is already caught up. */
const MAX_SWAP_PAGES = 1_000;
/** Events applied in one transaction while catching up (bounded memory, fewer commits). */
const CATCH_UP_TRANSACTION_EVENTS = 5_000;
/** Events counted for lag; beyond this the figure says "at least". */
const LAG_COUNT_CAP = 100_000;

/**
 * `DB`: the tables of the handle given (the application's, in the app); it must hold the runner's
 * own (`ProjectionTables`), the only ones the runner uses. Handlers write in transactions on it.
 */
export interface ProjectionRunnerOptions<DB extends ProjectionTables = ProjectionTables> {
  db: Kysely<DB>;
  store: EventStore;
  /** The read models to run, as the contexts contribute them. */
  projections: readonly ProjectionDefinition[];
  logger?: Logger;
  /** Events per batch and per transaction; default 500, at most 1,000. */
  batchSize?: number;
}

export interface ProjectionRunner {
  /** Creates missing generations, follows the active ones live, resumes or starts rebuilds. */
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<ProjectionStatus[]>;
  /** Builds a new generation while the active one serves, then swaps; resolves after the swap. */
  rebuild(name: string): Promise<{ generation: number }>;
  /** Starts a rebuild in the background; resolves once the new generation exists. */
  requestRebuild(name: string): Promise<{ generation: number }>;
  /** Resolves when the projection's active generation has caught up with the store. */
  waitUntilCaughtUp(name: string, timeoutMs?: number): Promise<void>;
  definitions(): readonly ProjectionDefinition[];
}

/** After an outage, a worker resumes after this delay, doubling up to the maximum while it lasts. */
const OUTAGE_RETRY_FIRST_MS = 500;
const OUTAGE_RETRY_MAX_MS = 30_000;

class GenerationStopped extends Error {
  constructor(readonly reason: 'retired' | 'failed') {
    super(`generation ${reason}`);
  }
}

class HandlerFailed extends Error {
  constructor(
    readonly event: RecordedEvent,
    override readonly cause: unknown,
  ) {
    super(
      `projection handler failed on ${event.stream}@${event.revision}: ${(cause as Error)?.message ?? String(cause)}`,
    );
  }
}

interface Worker {
  row: GenerationRow;
  subscription: Subscription;
  /** False while events read are not yet committed (the subscription's position is ahead). */
  settled(): boolean;
}

function validate(definition: ProjectionDefinition): void {
  if (!NAME_PATTERN.test(definition.name))
    throw new Error(`projection name ${definition.name} must match ${NAME_PATTERN}`);
  if (!Number.isInteger(definition.version) || definition.version < 1)
    throw new Error(`projection ${definition.name}: version >= 1`);
  if (definition.tables.length === 0 || !definition.tables.every((table) => TABLE_PATTERN.test(table))) {
    throw new Error(`projection ${definition.name}: tables must be lower-case SQL names`);
  }
  if (definition.handle === undefined && definition.handleBatch === undefined) {
    throw new Error(`projection ${definition.name}: give handle or handleBatch`);
  }
}

/**
 * A projection generation's lag, from what is committed only: the events after its stored
 * checkpoint that it reads (its filter; counted up to LAG_COUNT_CAP), and the seconds between the
 * newest of them and the last event it applied. The one figure `npm run projections -- status`,
 * `/metrics` and the admin API show, whichever process asks: a server's in-memory subscription
 * position (ahead of the checkpoint over events the filter skips) once made it say 0 where the
 * CLI said thousands. Null when the store cannot be read.
 */
export async function projectionLag(
  store: Pick<EventStore, 'headInfo'>,
  generation: Pick<GenerationRow, 'position' | 'last_event_at'>,
  filter: EventFilter | undefined,
): Promise<{ lagEvents: number | null; lagSeconds: number | null }> {
  const checkpoint = (generation.position ?? 'start') as Position | 'start';
  const head = await store.headInfo(checkpoint, LAG_COUNT_CAP, filter).catch(() => undefined);
  if (head === undefined) return { lagEvents: null, lagSeconds: null };
  if (head.eventsAfter === 0 || head.headCreatedAt === null)
    return { lagEvents: head.eventsAfter, lagSeconds: 0 };
  const appliedAt = generation.last_event_at?.getTime() ?? head.headCreatedAt.getTime();
  return {
    lagEvents: head.eventsAfter,
    lagSeconds: Math.max(0, (head.headCreatedAt.getTime() - appliedAt) / 1000),
  };
}

export function createProjectionRunner<DB extends ProjectionTables>(
  options: ProjectionRunnerOptions<DB>,
): ProjectionRunner {
  const { store, logger } = options;
  /** The runner's own tables; transactions for handlers open on `options.db`. */
  const db = ownTables<ProjectionTables, DB>(options.db);
  const own = (trx: Transaction<DB>) => ownTables<ProjectionTables, DB>(trx);
  const batchSize = Math.min(options.batchSize ?? 500, 1_000);
  const definitions = new Map<string, ProjectionDefinition>();
  for (const definition of options.projections) {
    validate(definition);
    if (definitions.has(definition.name)) throw new Error(`projection ${definition.name} registered twice`);
    definitions.set(definition.name, definition);
  }
  const workers = new Map<string, Worker>();
  const rebuilds = new Map<string, Promise<{ generation: number }>>();
  let running = false;
  const resumeTimers = new Set<NodeJS.Timeout>();

  const workerKey = (row: GenerationRow) => `${row.name}#${row.generation}`;
  const definitionOf = (name: string) => {
    const definition = definitions.get(name);
    if (definition === undefined) throw new Error(`no projection named ${name}`);
    return definition;
  };

  /** Applies events in the caller's transaction and moves the checkpoint with them. */
  async function applyIn(
    trx: Transaction<DB>,
    definition: ProjectionDefinition,
    generation: number,
    events: RecordedEvent[],
    nextPosition: Position | 'start',
  ): Promise<void> {
    const row = await repository.lockGeneration(own(trx), definition.name, generation);
    if (row === undefined || row.status === 'retired') throw new GenerationStopped('retired');
    if (row.failed_at !== null) throw new GenerationStopped('failed');
    const after = (row.position ?? 'start') as Position | 'start';
    let fresh = events.filter((event) => comparePositions(event.position, after) > 0);
    if (fresh.length > 0) fresh = await repository.guardStreamRevisions(own(trx), row.schema_name, fresh);
    const context = { db: trx, schema: row.schema_name };
    if (fresh.length > 0) {
      if (definition.handleBatch !== undefined) await definition.handleBatch(fresh, context);
      else for (const event of fresh) await definition.handle!(event, context);
    }
    await repository.advance(
      own(trx),
      row,
      maxPosition(after, nextPosition),
      fresh.length,
      fresh.at(-1)?.createdAt,
    );
  }

  /**
   * One batch in a span of its own, a trace of its own (it serves every request whose events it
   * carries), naming the projection and the streams it read (docs/operations.md, "Tracing").
   */
  function applyBatch(
    definition: ProjectionDefinition,
    row: GenerationRow,
    events: RecordedEvent[],
    next: Position | 'start',
  ): Promise<void> {
    return traced(
      'projection.batch',
      {
        'projection.name': definition.name,
        'projection.generation': row.generation,
        'projection.events': events.length,
      },
      (span) => {
        span?.setAttribute('eventstore.streams', streamsAttribute(events));
        return applyBatchNow(definition, row, events, next);
      },
      { root: true },
    );
  }

  /** One transaction per batch; on failure, event by event to name the one that throws. */
  async function applyBatchNow(
    definition: ProjectionDefinition,
    row: GenerationRow,
    events: RecordedEvent[],
    next: Position | 'start',
  ) {
    try {
      await options.db.transaction().execute((trx) => applyIn(trx, definition, row.generation, events, next));
      return;
    } catch (error) {
      if (error instanceof GenerationStopped) throw error;
    }
    for (const event of events) {
      try {
        await options.db
          .transaction()
          .execute((trx) => applyIn(trx, definition, row.generation, [event], event.position));
      } catch (error) {
        // An outage is not the handler's fault: the worker resumes from its checkpoint later.
        if (error instanceof GenerationStopped || isDependencyOutage(error)) throw error;
        await repository.markFailed(db, row, event, error);
        throw new HandlerFailed(event, error);
      }
    }
  }

  function follow(definition: ProjectionDefinition, row: GenerationRow): Worker {
    const existing = workers.get(workerKey(row));
    if (existing !== undefined) return existing;
    // While catching up, several pages go into one transaction (fewer commits); live, each page at once.
    let pending: RecordedEvent[] = [];
    let pendingPosition: Position | 'start' = 'start';
    let flushing = false;
    const flush = async () => {
      if (pending.length === 0) return;
      const events = pending;
      flushing = true;
      try {
        pending = [];
        await applyBatch(definition, row, events, pendingPosition);
      } finally {
        flushing = false;
      }
    };
    const worker: Worker = {
      row,
      settled: () => pending.length === 0 && !flushing,
      subscription: store.subscribeToAll({
        from: (row.position ?? 'start') as Position | 'start',
        ...(definition.filter === undefined ? {} : { filter: definition.filter }),
        batchSize,
        onBatch: async (events, context) => {
          pending.push(...events);
          pendingPosition = context.position;
          if (context.live || pending.length >= CATCH_UP_TRANSACTION_EVENTS) await flush();
        },
        onCaughtUp: flush,
        onError: (error) => void onWorkerError(definition, row, error),
      }),
    };
    workers.set(workerKey(row), worker);
    return worker;
  }

  async function onWorkerError(
    definition: ProjectionDefinition,
    row: GenerationRow,
    error: unknown,
  ): Promise<void> {
    workers.delete(workerKey(row));
    if (error instanceof GenerationStopped && error.reason === 'retired') {
      // Another process swapped generations: follow the new active one.
      if (running && row.status === 'active')
        await followActive(definition).catch((cause) =>
          logger?.error({ err: cause }, 'projection follow failed'),
        );
      return;
    }
    if (isDependencyOutage(error) && row.status === 'active') {
      // PostgreSQL (or the store) went away under the worker: an operating error, not a broken
      // projection. Marked failed, it stopped for good and its read model froze until a restart
      // (found by tests/faults: connections cut during load left orders PENDING_PAYMENT in the view).
      logger?.warn({ projection: definition.name, err: error }, 'projection paused by an outage: resuming');
      resumeAfterOutage(definition, OUTAGE_RETRY_FIRST_MS);
      return;
    }
    if (!(error instanceof HandlerFailed) && !(error instanceof GenerationStopped))
      await repository.markFailed(db, row, undefined, error).catch(() => undefined);
    logger?.error(
      { projection: definition.name, generation: row.generation, err: error },
      'projection stopped: marked failed',
    );
  }

  /** Follows the active generation again from its stored checkpoint, retrying while the outage lasts. */
  function resumeAfterOutage(definition: ProjectionDefinition, delayMs: number): void {
    const timer = setTimeout(() => {
      resumeTimers.delete(timer);
      if (!running) return;
      followActive(definition).catch((error: unknown) => {
        if (!isDependencyOutage(error)) {
          logger?.error({ err: error, projection: definition.name }, 'projection follow failed');
          return;
        }
        resumeAfterOutage(definition, Math.min(OUTAGE_RETRY_MAX_MS, delayMs * 2));
      });
    }, delayMs);
    resumeTimers.add(timer);
  }

  async function followActive(definition: ProjectionDefinition): Promise<void> {
    const active = (await repository.generations(db, definition.name)).find((row) => row.status === 'active');
    if (active !== undefined && active.version === definition.version && active.failed_at === null)
      follow(definition, active);
  }

  async function createGeneration(
    definition: ProjectionDefinition,
    status: 'building' | 'active',
  ): Promise<GenerationRow> {
    return options.db.transaction().execute(async (trx) => {
      await repository.lockProjectionName(own(trx), definition.name);
      const rows = await repository.generations(own(trx), definition.name);
      const building = rows.find((row) => row.status === 'building');
      if (status === 'building' && building !== undefined) return building;
      if (status === 'active' && rows.some((row) => row.status === 'active'))
        return rows.find((row) => row.status === 'active')!;
      const generation = Math.max(0, ...rows.map((row) => row.generation)) + 1;
      const row = await repository.insertGeneration(own(trx), {
        name: definition.name,
        generation,
        version: definition.version,
        status,
      });
      await definition.setup({ db: trx, schema: row.schema_name });
      if (status === 'active') await repository.pointViews(own(trx), definition.tables, row.schema_name);
      return row;
    });
  }

  /** Final catch-up, views swapped and statuses changed in one transaction; old tables dropped after. */
  async function swap(
    definition: ProjectionDefinition,
    building: GenerationRow,
  ): Promise<GenerationRow | undefined> {
    const retired = await options.db.transaction().execute(async (trx) => {
      await repository.lockProjectionName(own(trx), definition.name);
      const active = await repository.lockActive(own(trx), definition.name);
      const row = await repository.lockGeneration(own(trx), definition.name, building.generation);
      if (row === undefined || row.status !== 'building') return undefined;
      let position = (row.position ?? 'start') as Position | 'start';
      for (let page = 0; page < MAX_SWAP_PAGES; page += 1) {
        const read = await store.readAll(position, {
          limit: batchSize,
          ...(definition.filter === undefined ? {} : { filter: definition.filter }),
        });
        await applyIn(trx, definition, row.generation, read.events, read.nextPosition);
        position = read.nextPosition;
        if (read.isEnd) break;
      }
      if (
        active !== undefined &&
        comparePositions(position, (active.position ?? 'start') as Position | 'start') < 0
      ) {
        throw new Error(`rebuild of ${definition.name} is behind the active generation; not swapping`);
      }
      await repository.pointViews(own(trx), definition.tables, row.schema_name);
      if (active !== undefined) await repository.setStatus(own(trx), active, 'retired');
      await repository.setStatus(own(trx), row, 'active');
      return active ?? null;
    });
    if (retired === undefined) return undefined;
    if (retired !== null) {
      await workers.get(workerKey(retired))?.subscription.stop();
      workers.delete(workerKey(retired));
      await repository.dropSchema(db, retired.schema_name);
    }
    return retired ?? undefined;
  }

  async function failedNow(name: string, generation: number): Promise<boolean> {
    const row = (await repository.generations(db, name)).find((item) => item.generation === generation);
    return row?.failed_at !== null;
  }

  async function runRebuild(
    definition: ProjectionDefinition,
    building: GenerationRow,
  ): Promise<{ generation: number }> {
    if (building.failed_at !== null) await repository.clearFailure(db, building);
    const worker = follow(definition, building);
    const caughtUp = await Promise.race([
      worker.subscription.caughtUp.then(() => true),
      worker.subscription.stopped.then(() => false),
    ]);
    await worker.subscription.stop();
    // Stopped before catching up (shutdown): the building generation stays and resumes at the next start.
    if (!caughtUp && !(await failedNow(definition.name, building.generation)))
      return { generation: building.generation };
    workers.delete(workerKey(building));
    const [row] = (await repository.generations(db, definition.name)).filter(
      (item) => item.generation === building.generation,
    );
    if (row?.failed_at !== null)
      throw new Error(`rebuild of ${definition.name} failed: ${row?.error ?? 'generation vanished'}`);
    await swap(definition, building);
    logger?.info(
      { projection: definition.name, generation: building.generation },
      'projection rebuilt and swapped',
    );
    if (running) await followActive(definition);
    return { generation: building.generation };
  }

  function startRebuild(
    definition: ProjectionDefinition,
    building: GenerationRow,
  ): Promise<{ generation: number }> {
    const existing = rebuilds.get(definition.name);
    if (existing !== undefined) return existing;
    const promise = runRebuild(definition, building).finally(() => rebuilds.delete(definition.name));
    rebuilds.set(definition.name, promise);
    return promise;
  }

  async function startOne(definition: ProjectionDefinition): Promise<void> {
    const rows = await repository.generations(db, definition.name);
    let active = rows.find((row) => row.status === 'active');
    let building = rows.find((row) => row.status === 'building');
    if (building !== undefined && building.version !== definition.version) {
      // A rebuild of an older version of the code, interrupted: start over with this version.
      await repository.deleteGeneration(db, building);
      building = undefined;
    }
    if (active === undefined && building === undefined) active = await createGeneration(definition, 'active');
    if (active !== undefined && active.version === definition.version) {
      // A restart retries a failed generation from its checkpoint: nothing is skipped.
      if (active.failed_at !== null) await repository.clearFailure(db, active);
      follow(definition, { ...active, failed_at: null });
    }
    if (building !== undefined)
      void startRebuild(definition, building).catch((error) =>
        logger?.error({ err: error }, 'rebuild failed'),
      );
    else if (active !== undefined && active.version !== definition.version) {
      const fresh = await createGeneration(definition, 'building');
      void startRebuild(definition, fresh).catch((error) => logger?.error({ err: error }, 'rebuild failed'));
    }
  }

  const runner: ProjectionRunner = {
    definitions: () => [...definitions.values()],

    async start() {
      if (running) return;
      running = true;
      for (const definition of definitions.values()) await startOne(definition);
    },

    async stop() {
      running = false;
      for (const timer of resumeTimers) clearTimeout(timer);
      resumeTimers.clear();
      await Promise.all([...workers.values()].map((worker) => worker.subscription.stop()));
      workers.clear();
      await Promise.allSettled([...rebuilds.values()]);
    },

    async rebuild(name) {
      const definition = definitionOf(name);
      return startRebuild(definition, await createGeneration(definition, 'building'));
    },

    async requestRebuild(name) {
      const definition = definitionOf(name);
      const building = await createGeneration(definition, 'building');
      void startRebuild(definition, building).catch((error) =>
        logger?.error({ err: error, projection: name }, 'rebuild failed'),
      );
      return { generation: building.generation };
    },

    async status() {
      const rows = await repository.generations(db);
      return Promise.all(
        rows
          .filter((row) => row.status !== 'retired')
          .map(async (row) => {
            const worker = workers.get(workerKey(row));
            const lag = await projectionLag(store, row, definitions.get(row.name)?.filter);
            return {
              name: row.name,
              version: row.version,
              generation: row.generation,
              status: row.status,
              schema: row.schema_name,
              position: row.position,
              eventsProcessed: Number(row.events_processed),
              lastEventAt: row.last_event_at?.toISOString() ?? null,
              failed:
                row.failed_at === null
                  ? null
                  : { at: row.failed_at.toISOString(), event: row.failed_event, error: row.error ?? '' },
              ...lag,
              // A failed generation applies nothing more (applyIn refuses it), even while its
              // worker is still being taken down.
              running: worker !== undefined && row.failed_at === null,
            } satisfies ProjectionStatus;
          }),
      );
    },

    async waitUntilCaughtUp(name, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const status = (await runner.status()).find((item) => item.name === name && item.status === 'active');
        if (status?.failed !== null && status?.failed !== undefined)
          throw new Error(`projection ${name} failed: ${status.failed.error}`);
        if (status !== undefined && status.lagEvents === 0) return;
        if (Date.now() > deadline)
          throw new Error(`projection ${name} did not catch up within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
  };
  return runner;
}
