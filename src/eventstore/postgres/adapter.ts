import pg from 'pg';
import type { EventStoreAdapter, StoredEvent } from '../adapter.js';
import { DuplicateEventIds, StreamNotFound, WrongExpectedVersion } from '../errors.js';
import { createPollingSubscription } from '../polling-subscription.js';
import { decodePosition, encodePosition, maxPosition } from '../position.js';
import type { EventFilter, ExpectedRevision, Position, ReadAllPage, RecordedEvent, StartFrom } from '../types.js';
import { createWakeSignal } from '../wake.js';
import { createNotifier } from './notifier.js';

export interface PostgresAdapterOptions {
  pool: pg.Pool;
  /** For the dedicated LISTEN connection (a pooled client cannot keep LISTEN). */
  connectionString: string;
  /** Polling fallback when no notification arrives; default 500 ms. */
  pollIntervalMs?: number;
  /** Minimum time between two NOTIFYs sent by this process (batching); default 5 ms. */
  notifyIntervalMs?: number;
}

const NOTIFY_CHANNEL = 'eventstore_appended';
const EXPECTED_KIND = { any: 0, no_stream: 1, stream_exists: 2, exact: 3 } as const;
const MAX_DUPLICATE_RETRIES = 2;

interface EventRow {
  txid: string;
  global_position: bigint;
  stream_id: string;
  revision: bigint;
  event_id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown> & { schemaVersion: number };
  created_at: Date;
}

const EVENT_COLUMNS = `transaction_id::text AS txid, global_position, stream_id, revision, event_id::text AS event_id,
  type, data, metadata, created_at`;

function toRecorded(row: EventRow): RecordedEvent {
  return {
    id: row.event_id,
    type: row.type,
    data: row.data,
    metadata: row.metadata,
    stream: row.stream_id,
    revision: row.revision,
    position: encodePosition(BigInt(row.txid), row.global_position),
    createdAt: row.created_at,
  };
}

/** The events as one JSON array, built from JSON already serialized (and measured) by the facade. */
function eventsJson(events: readonly StoredEvent[]): string {
  return `[${events
    .map((event) => `{"id":"${event.id}","type":${JSON.stringify(event.type)},"data":${event.dataJson},"metadata":${event.metadataJson}}`)
    .join(',')}]`;
}

function expectedParameters(expected: ExpectedRevision): [number, string | null] {
  if (typeof expected === 'bigint') return [EXPECTED_KIND.exact, expected.toString()];
  return [EXPECTED_KIND[expected], null];
}

const escapeLike = (prefix: string) => `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/**
 * One prepared statement per filter shape. Only transactions older than the snapshot's xmin are
 * read (DESIGN.md 2): an event still behind an open transaction is never skipped, only waited for.
 * The horizon is returned from the same snapshot, so an empty or short page can move the
 * checkpoint to (horizon, 0) past filtered-out events without skipping anything.
 */
function readAllQuery(from: Position | 'start', limit: number, filter: EventFilter | undefined): pg.QueryConfig {
  const { major, minor } = from === 'start' ? { major: 0n, minor: 0n } : decodePosition(from);
  const values: unknown[] = [major.toString(), minor.toString(), limit];
  const conditions: string[] = [];
  let name = 'es_read_all';
  if (filter?.streamPrefixes !== undefined && filter.streamPrefixes.length > 0) {
    values.push(filter.streamPrefixes.map(escapeLike));
    conditions.push(`AND e.stream_id LIKE ANY($${values.length}::text[])`);
    name += '_p';
  }
  if (filter?.eventTypes !== undefined && filter.eventTypes.length > 0) {
    values.push([...filter.eventTypes]);
    conditions.push(`AND e.type = ANY($${values.length}::text[])`);
    name += '_t';
  }
  return {
    name,
    text: `WITH h AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
      SELECT h.horizon::text AS horizon, page.* FROM h LEFT JOIN LATERAL (
        SELECT ${EVENT_COLUMNS} FROM eventstore_events e
         WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2::bigint)
           AND e.transaction_id < h.horizon ${conditions.join(' ')}
         ORDER BY e.transaction_id, e.global_position
         LIMIT $3) page ON true`,
    values,
  };
}

export function createPostgresAdapter(options: PostgresAdapterOptions): EventStoreAdapter {
  const { pool } = options;
  const signal = createWakeSignal();
  const notifier = createNotifier({
    pool,
    connectionString: options.connectionString,
    channel: NOTIFY_CHANNEL,
    minIntervalMs: options.notifyIntervalMs ?? 5,
    onNotification: () => signal.wake(),
  });

  async function callAppend(stream: string, json: string, expected: ExpectedRevision) {
    const [kind, revision] = expectedParameters(expected);
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await pool.query<{ outcome: string; next_revision: bigint | null; txid: string | null; last_position: bigint | null; actual: bigint | null }>({
          name: 'es_append',
          text: 'SELECT outcome, next_revision, txid, last_position, actual FROM eventstore_append($1, $2::smallint, $3::bigint, $4::jsonb)',
          values: [stream, kind, revision, json],
        });
        return result.rows[0]!;
      } catch (error) {
        // Two retries of one append raced: the loser hit the event id; the next call sees the first.
        const constraint = (error as { constraint?: string }).constraint;
        if (constraint !== 'eventstore_events_event_id_key' || attempt >= MAX_DUPLICATE_RETRIES) throw error;
      }
    }
  }

  async function readAll(from: StartFrom, limit: number, filter: EventFilter | undefined): Promise<ReadAllPage> {
    const start = from === 'end' ? await headPosition() : from;
    const result = await pool.query<EventRow & { horizon: string }>(readAllQuery(start, limit, filter));
    const rows = result.rows.filter((row) => row.event_id !== null);
    const events = rows.map(toRecorded);
    const last = events.at(-1)?.position ?? start;
    const isEnd = events.length < limit;
    const horizon = encodePosition(BigInt(result.rows[0]?.horizon ?? '0'), 0n);
    return { events, nextPosition: isEnd ? maxPosition(last, horizon) : last, isEnd };
  }

  /** The current snapshot: xmin, and which transaction ids it sees as committed. */
  async function currentSnapshot(): Promise<{ xmin: bigint; visible(transactionId: bigint): boolean }> {
    const result = await pool.query<{ snapshot: string }>({ name: 'es_snapshot', text: 'SELECT pg_current_snapshot()::text AS snapshot' });
    const [xmin = '0', xmax = '0', list = ''] = result.rows[0]!.snapshot.split(':');
    const low = BigInt(xmin);
    const high = BigInt(xmax);
    const inProgress = new Set(list === '' ? [] : list.split(',').map(BigInt));
    return { xmin: low, visible: (id) => id < low || (id < high && !inProgress.has(id)) };
  }

  async function headPosition(): Promise<Position | 'start'> {
    const result = await pool.query<{ horizon: string }>({
      name: 'es_head_horizon',
      text: 'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon',
    });
    // Everything below the horizon is committed or gone; whatever commits later sorts after it.
    return encodePosition(BigInt(result.rows[0]!.horizon), 0n);
  }

  return {
    kind: 'postgres',

    async append(stream, events, expected) {
      const row = await callAppend(stream, eventsJson(events), expected);
      switch (row.outcome) {
        case 'ok':
        case 'duplicate':
          if (row.outcome === 'ok') {
            signal.wake();
            notifier.notify();
          }
          return { nextRevision: row.next_revision!, position: encodePosition(BigInt(row.txid!), row.last_position!) };
        case 'wrong_expected_version':
          throw new WrongExpectedVersion(stream, expected, row.actual ?? 'no_stream');
        case 'duplicate_mismatch':
          throw new DuplicateEventIds(stream);
        default:
          throw new Error(`eventstore_append returned an unknown outcome ${row.outcome}`);
      }
    },

    async readStream(stream, readOptions) {
      const forwards = readOptions.direction === 'forwards';
      const from = readOptions.fromRevision ?? (forwards ? 0n : 9_223_372_036_854_775_807n);
      const result = await pool.query<EventRow>({
        name: forwards ? 'es_read_stream_f' : 'es_read_stream_b',
        text: `SELECT ${EVENT_COLUMNS} FROM eventstore_events
                WHERE stream_id = $1 AND revision ${forwards ? '>=' : '<='} $2::bigint
                ORDER BY revision ${forwards ? 'ASC' : 'DESC'} LIMIT $3`,
        values: [stream, from.toString(), readOptions.maxCount],
      });
      if (result.rows.length === 0) {
        const exists = await pool.query({
          name: 'es_stream_exists',
          text: 'SELECT 1 FROM eventstore_streams WHERE stream_id = $1',
          values: [stream],
        });
        if (exists.rowCount === 0) throw new StreamNotFound(stream);
      }
      return result.rows.map(toRecorded);
    },

    readAll,

    subscribeToAll(subscribeOptions) {
      notifier.listen();
      // From 'end': start at the snapshot's horizon, but leave out what that snapshot already saw
      // committed above it, so "new" means committed after subscribing, and nothing later is skipped.
      let alreadyCommitted: ((transactionId: bigint) => boolean) | undefined;
      const read = async (from: Position | 'start', limit: number, filter: EventFilter | undefined) => {
        const page = await readAll(from, limit, filter);
        if (alreadyCommitted === undefined) return page;
        const seen = alreadyCommitted;
        return { ...page, events: page.events.filter((event) => !seen(decodePosition(event.position).major)) };
      };
      return createPollingSubscription(
        {
          readAll: read,
          resolveStart: async (from) => {
            if (from !== 'end') return from;
            const snapshot = await currentSnapshot();
            alreadyCommitted = snapshot.visible;
            return encodePosition(snapshot.xmin, 0n);
          },
          signal,
          pollIntervalMs: options.pollIntervalMs ?? 500,
        },
        subscribeOptions,
      );
    },

    async headInfo(after, cap) {
      const { major, minor } = after === 'start' ? { major: 0n, minor: 0n } : decodePosition(after);
      const result = await pool.query<{ events_after: number; head_created_at: Date | null }>({
        name: 'es_head_info',
        text: `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM eventstore_events
                        WHERE (transaction_id, global_position) > ($1::text::xid8, $2::bigint) LIMIT $3) ahead) AS events_after,
                      (SELECT created_at FROM eventstore_events
                        ORDER BY transaction_id DESC, global_position DESC LIMIT 1) AS head_created_at`,
        values: [major.toString(), minor.toString(), cap],
      });
      const row = result.rows[0]!;
      return { eventsAfter: row.events_after, headCreatedAt: row.head_created_at };
    },

    async ping() {
      await pool.query('SELECT 1 FROM eventstore_streams LIMIT 1');
    },

    async close() {
      await notifier.close();
      signal.wake();
    },
  };
}
