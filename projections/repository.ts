import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Position, RecordedEvent } from '../src/eventstore/index.js';
import type { ProjectionTables } from './tables.js';

/** All SQL of the projections runner (CONVENTIONS: SQL in repositories). */
export type Executor = Kysely<ProjectionTables> | Transaction<ProjectionTables>;

export type GenerationRow = Selectable<ProjectionTables['projection_generations']>;

export const schemaName = (name: string, generation: number) => `proj_${name}_g${generation}`;

export async function generations(db: Executor, name?: string): Promise<GenerationRow[]> {
  return (await db
    .selectFrom('projection_generations')
    .selectAll()
    .$if(name !== undefined, (query) => query.where('name', '=', name!))
    .orderBy('name')
    .orderBy('generation')
    .execute()) as GenerationRow[];
}

export async function lockGeneration(trx: Transaction<ProjectionTables>, name: string, generation: number) {
  return (await trx
    .selectFrom('projection_generations')
    .selectAll()
    .where('name', '=', name)
    .where('generation', '=', generation)
    .forUpdate()
    .executeTakeFirst()) as GenerationRow | undefined;
}

export async function lockActive(trx: Transaction<ProjectionTables>, name: string) {
  return (await trx
    .selectFrom('projection_generations')
    .selectAll()
    .where('name', '=', name)
    .where('status', '=', 'active')
    .forUpdate()
    .executeTakeFirst()) as GenerationRow | undefined;
}

/** Serializes generation changes of one projection across processes, for this transaction. */
export async function lockProjectionName(trx: Transaction<ProjectionTables>, name: string): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`projection:${name}`}))`.execute(trx);
}

export async function insertGeneration(
  trx: Transaction<ProjectionTables>,
  row: { name: string; generation: number; version: number; status: 'building' | 'active' },
): Promise<GenerationRow> {
  const schema = schemaName(row.name, row.generation);
  await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(trx);
  // The (stream, revision) guard: an event at or below a stream's stored revision is never applied twice.
  await sql`CREATE TABLE ${sql.id(schema, '_streams')} (stream text PRIMARY KEY, revision bigint NOT NULL, batch_min bigint)`.execute(
    trx,
  );
  return (await trx
    .insertInto('projection_generations')
    .values({ ...row, schema_name: schema, activated_at: row.status === 'active' ? new Date() : null })
    .returningAll()
    .executeTakeFirstOrThrow()) as GenerationRow;
}

/**
 * Returns the events not yet applied by (stream, revision) and records the batch's maxima, in one
 * statement in the common case: a stream is updated (and returned) only when every event of the
 * batch is above its stored revision. A stream with an overlap (a redelivery) takes a second query.
 */
export async function guardStreamRevisions(
  trx: Transaction<ProjectionTables>,
  schema: string,
  events: RecordedEvent[],
): Promise<RecordedEvent[]> {
  const ranges = new Map<string, { min: bigint; max: bigint }>();
  for (const event of events) {
    const range = ranges.get(event.stream);
    if (range === undefined) ranges.set(event.stream, { min: event.revision, max: event.revision });
    else {
      if (event.revision < range.min) range.min = event.revision;
      if (event.revision > range.max) range.max = event.revision;
    }
  }
  const table = sql.id(schema, '_streams');
  const streams = [...ranges.keys()];
  const fresh = await sql<{ stream: string }>`
    INSERT INTO ${table} AS s (stream, revision, batch_min)
    SELECT * FROM unnest(${streams}::text[], ${streams.map((stream) => String(ranges.get(stream)!.max))}::bigint[],
                         ${streams.map((stream) => String(ranges.get(stream)!.min))}::bigint[])
    ON CONFLICT (stream) DO UPDATE SET revision = excluded.revision WHERE s.revision < excluded.batch_min
    RETURNING s.stream`.execute(trx);
  if (fresh.rows.length === streams.length) return events;
  const freshStreams = new Set(fresh.rows.map((row) => row.stream));
  const overlapping = streams.filter((stream) => !freshStreams.has(stream));
  const stored = await sql<{ stream: string; revision: bigint }>`
    SELECT stream, revision FROM ${table} WHERE stream = ANY(${overlapping}::text[]) FOR UPDATE`.execute(trx);
  const applied = new Map(stored.rows.map((row) => [row.stream, row.revision]));
  await sql`UPDATE ${table} AS s SET revision = GREATEST(s.revision, i.revision)
            FROM unnest(${overlapping}::text[], ${overlapping.map((stream) => String(ranges.get(stream)!.max))}::bigint[]) AS i(stream, revision)
            WHERE s.stream = i.stream`.execute(trx);
  return events.filter((event) => {
    const revision = applied.get(event.stream);
    return revision === undefined || event.revision > revision;
  });
}

export async function advance(
  trx: Transaction<ProjectionTables>,
  row: GenerationRow,
  position: Position | 'start',
  applied: number,
  lastEventAt: Date | undefined,
): Promise<void> {
  await trx
    .updateTable('projection_generations')
    .set({
      position: position === 'start' ? null : position,
      events_processed: sql`events_processed + ${applied}`,
      ...(lastEventAt === undefined ? {} : { last_event_at: lastEventAt }),
      updated_at: sql`now()`,
    })
    .where('name', '=', row.name)
    .where('generation', '=', row.generation)
    .execute();
}

export async function markFailed(
  db: Executor,
  row: GenerationRow,
  event: RecordedEvent | undefined,
  error: unknown,
) {
  const failedEvent =
    event === undefined
      ? null
      : JSON.stringify({
          id: event.id,
          stream: event.stream,
          revision: String(event.revision),
          type: event.type,
          position: event.position,
        });
  await db
    .updateTable('projection_generations')
    .set({
      failed_at: sql`now()`,
      failed_event: failedEvent,
      error: (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 2_000),
      updated_at: sql`now()`,
    })
    .where('name', '=', row.name)
    .where('generation', '=', row.generation)
    .execute();
}

export async function clearFailure(db: Executor, row: GenerationRow): Promise<void> {
  await db
    .updateTable('projection_generations')
    .set({ failed_at: null, failed_event: null, error: null, updated_at: sql`now()` })
    .where('name', '=', row.name)
    .where('generation', '=', row.generation)
    .execute();
}

export async function setStatus(
  trx: Transaction<ProjectionTables>,
  row: GenerationRow,
  status: 'active' | 'retired',
) {
  await trx
    .updateTable('projection_generations')
    .set({ status, updated_at: sql`now()`, ...(status === 'active' ? { activated_at: sql`now()` } : {}) })
    .where('name', '=', row.name)
    .where('generation', '=', row.generation)
    .execute();
}

async function columnsOf(trx: Transaction<ProjectionTables>, schema: string, table: string): Promise<string> {
  const result = await sql<{ columns: string | null }>`
    SELECT string_agg(a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attnum) AS columns
      FROM pg_attribute a
     WHERE a.attrelid = to_regclass(${`${schema}.${table}`}) AND a.attnum > 0 AND NOT a.attisdropped`.execute(
    trx,
  );
  return result.rows[0]?.columns ?? '';
}

/**
 * Points each public view at the generation's table, in the caller's transaction: readers see
 * the old generation until commit and the new one after, never a mix. Same columns: the view is
 * replaced in place; other columns (a new version): dropped and created in the same transaction.
 */
export async function pointViews(
  trx: Transaction<ProjectionTables>,
  tables: readonly string[],
  schema: string,
): Promise<void> {
  for (const table of tables) {
    const current = await columnsOf(trx, 'public', table);
    const next = await columnsOf(trx, schema, table);
    if (next === '') throw new Error(`projection setup did not create ${schema}.${table}`);
    if (current !== '' && current !== next) await sql`DROP VIEW ${sql.id('public', table)}`.execute(trx);
    await sql`CREATE OR REPLACE VIEW ${sql.id('public', table)} AS SELECT * FROM ${sql.id(schema, table)}`.execute(
      trx,
    );
  }
}

export async function dropSchema(db: Executor, schema: string): Promise<void> {
  await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(db);
}

/** Removes a generation that never served (an abandoned rebuild): its schema and its row. */
export async function deleteGeneration(db: Kysely<ProjectionTables>, row: GenerationRow): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockProjectionName(trx, row.name);
    await sql`DROP SCHEMA IF EXISTS ${sql.id(row.schema_name)} CASCADE`.execute(trx);
    await trx
      .deleteFrom('projection_generations')
      .where('name', '=', row.name)
      .where('generation', '=', row.generation)
      .where('status', '=', 'building')
      .execute();
  });
}
