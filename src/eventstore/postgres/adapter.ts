import pg from 'pg';
import type { EventStoreAdapter, StoredEvent } from '../adapter.js';
import { DuplicateEventIds, StreamNotFound, WrongExpectedVersion } from '../errors.js';
import { createLiveTail } from '../live-tail.js';
import { createPollingSubscription } from '../polling-subscription.js';
import { decodePosition, encodePosition, maxPosition } from '../position.js';
import type {
  EventFilter,
  ExpectedRevision,
  Position,
  ReadAllPage,
  RecordedEvent,
  StartFrom,
} from '../types.js';
import { createWakeSignal } from '../wake.js';
import { createAppendBatcher, type AppendRequest, type AppendRow } from './append-batcher.js';
import { createNotifier } from './notifier.js';

export interface PostgresAdapterOptions {
  pool: pg.Pool;
  /** For the dedicated LISTEN connection (a pooled client cannot keep LISTEN). */
  connectionString: string;
  /** Polling fallback when no notification arrives; default 500 ms. */
  pollIntervalMs?: number;
  /** Minimum time between two NOTIFYs sent by this process (batching); default 5 ms. */
  notifyIntervalMs?: number;
  /**
   * 'database' (default): only in-progress transactions that are appending to this store hold
   * readers back. 'cluster': every transaction of the PostgreSQL cluster does (pg_snapshot_xmin).
   */
  horizon?: 'database' | 'cluster';
  /** Recent events kept in memory by the shared live tail (see live-tail.ts); default 10,000. */
  liveTailEvents?: number;
  /** And at most about this many bytes of them (stored size × 4); default 64 MiB. */
  liveTailBytes?: number;
  /**
   * Append calls running at once; appends arriving while all are busy are grouped into one
   * transaction (see append-batcher.ts). Default 4.
   */
  appendsInFlight?: number;
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
    .map(
      (event) =>
        `{"id":"${event.id}","type":${JSON.stringify(event.type)},"data":${event.dataJson},"metadata":${event.metadataJson}}`,
    )
    .join(',')}]`;
}

function expectedParameters(expected: ExpectedRevision): [number, string | null] {
  if (typeof expected === 'bigint') return [EXPECTED_KIND.exact, expected.toString()];
  return [EXPECTED_KIND[expected], null];
}

/** pg_snapshot text: xmin:xmax:xip1,xip2,… */
function parseSnapshot(text: string): { xmin: bigint; xmax: bigint; inProgress: bigint[] } {
  const [xmin = '0', xmax = '0', list = ''] = text.split(':');
  return {
    xmin: BigInt(xmin),
    xmax: BigInt(xmax),
    inProgress: list === '' ? [] : list.split(',').map(BigInt),
  };
}

const escapeLike = (prefix: string) => `${prefix.replace(/[\\%_]/g, (character) => `\\${character}`)}%`;

/** The SQL of a filter over `eventstore_events e`, its values appended; the suffix names the shape. */
function filterConditions(
  filter: EventFilter | undefined,
  values: unknown[],
): { conditions: string; suffix: string } {
  const conditions: string[] = [];
  let suffix = '';
  if (filter?.streamPrefixes !== undefined && filter.streamPrefixes.length > 0) {
    values.push(filter.streamPrefixes.map(escapeLike));
    conditions.push(`AND e.stream_id LIKE ANY($${values.length}::text[])`);
    suffix += '_p';
  }
  if (filter?.eventTypes !== undefined && filter.eventTypes.length > 0) {
    values.push([...filter.eventTypes]);
    conditions.push(`AND e.type = ANY($${values.length}::text[])`);
    suffix += '_t';
  }
  return { conditions: conditions.join(' '), suffix };
}

/**
 * One prepared statement per filter shape. Only transactions older than the snapshot's xmin are
 * read (docs/architecture.md, decision 2): an event still behind an open transaction is never skipped, only waited for.
 * The horizon is returned from the same snapshot, so an empty or short page can move the
 * checkpoint to (horizon, 0) past filtered-out events without skipping anything.
 */
function readAllQuery(
  from: Position | 'start',
  limit: number,
  filter: EventFilter | undefined,
  horizon: 'database' | 'cluster',
): pg.QueryConfig {
  const { major, minor } = from === 'start' ? { major: 0n, minor: 0n } : decodePosition(from);
  const values: unknown[] = [major.toString(), minor.toString(), limit];
  const { conditions, suffix } = filterConditions(filter, values);
  return {
    name: `${horizon === 'cluster' ? 'es_read_all' : 'es_read_all_db'}${suffix}`,
    text: `WITH h AS (SELECT pg_current_snapshot() AS snapshot)
      SELECT h.snapshot::text AS snapshot, page.* FROM h LEFT JOIN LATERAL (
        SELECT ${EVENT_COLUMNS}, pg_column_size(e.data) + pg_column_size(e.metadata) AS stored_bytes FROM eventstore_events e
         WHERE (e.transaction_id, e.global_position) > ($1::text::xid8, $2::bigint)
           AND e.transaction_id < ${horizon === 'cluster' ? 'pg_snapshot_xmin(h.snapshot)' : 'pg_snapshot_xmax(h.snapshot)'}
           ${conditions}
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

  const pollIntervalMs = options.pollIntervalMs ?? 500;
  // One reader of the log for every live subscription of this process (see live-tail.ts).
  const tail = createLiveTail({
    read: (from, limit) => readAll(from, limit, undefined),
    wake: signal,
    pollIntervalMs,
    ...(options.liveTailEvents === undefined ? {} : { maxEvents: options.liveTailEvents }),
    ...(options.liveTailBytes === undefined ? {} : { maxBytes: options.liveTailBytes }),
  });

  async function callAppend({ stream, json, kind, revision }: AppendRequest): Promise<AppendRow> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const result = await pool.query<AppendRow>({
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
  const batcher = createAppendBatcher({
    pool,
    single: callAppend,
    ...(options.appendsInFlight === undefined ? {} : { maxInFlight: options.appendsInFlight }),
  });

  async function readAll(
    from: StartFrom,
    limit: number,
    filter: EventFilter | undefined,
  ): Promise<ReadAllPage & { heldBack: boolean; storedBytes: number[] }> {
    const start = from === 'end' ? await headPosition() : from;
    const mode = options.horizon ?? 'database';
    const result = await pool.query<EventRow & { snapshot: string; stored_bytes: number }>(
      readAllQuery(start, limit, filter, mode),
    );
    const rows = result.rows.filter((row) => row.event_id !== null);
    const events = rows.map(toRecorded);
    const snapshot = parseSnapshot(result.rows[0]?.snapshot ?? '0:0:');
    const txid = (event: RecordedEvent) => decodePosition(event.position).major;
    // In-progress transactions older than an event read: only appenders among them hold it back.
    const lastTxid = events.length === 0 ? 0n : txid(events.at(-1)!);
    const blockers = mode === 'cluster' ? [] : snapshot.inProgress.filter((id) => id < lastTxid);
    const relevant = blockers.length === 0 ? [] : await appendingTransactions(blockers);
    const cut = relevant.length === 0 ? undefined : relevant.reduce((low, id) => (id < low ? id : low));
    const kept = cut === undefined ? events : events.filter((event) => txid(event) < cut);
    const isEnd = kept.length < events.length || events.length < limit;
    const last = kept.at(-1)?.position ?? start;
    // Something committed may sit behind an open transaction: worth re-reading soon.
    const heldBack =
      mode === 'cluster'
        ? snapshot.inProgress.length > 0 || snapshot.xmin < snapshot.xmax
        : relevant.length > 0;
    const storedBytes = rows.slice(0, kept.length).map((row) => row.stored_bytes);
    if (!isEnd) return { events: kept, nextPosition: last, isEnd, heldBack, storedBytes };
    // Past every event read, up to the oldest transaction that may still append (or the xmin).
    const others = snapshot.inProgress.filter((id) => !blockers.includes(id));
    const jump =
      mode === 'cluster'
        ? snapshot.xmin
        : [...relevant, ...others].reduce((low, id) => (id < low ? id : low), snapshot.xmax);
    return {
      events: kept,
      nextPosition: maxPosition(last, encodePosition(jump, 0n)),
      isEnd,
      heldBack,
      storedBytes,
    };
  }

  /**
   * Of these in-progress transactions (from a read's snapshot), those that may have appended
   * events: holding a lock on eventstore_streams in this database now, or committed since the
   * snapshot with events in the table. Three statements in this order: locks, then status, then
   * rows. A transaction still in progress after the lock read without holding the lock never
   * appended (eventstore_append takes its id after the lock and refuses a transaction that
   * already had one); one committed before the row read shows its rows to that read.
   */
  async function appendingTransactions(candidates: bigint[]): Promise<bigint[]> {
    const locks = await pool.query<{ xid: string }>({
      name: 'es_appenders',
      text: `SELECT l2.transactionid::text AS xid
               FROM pg_locks l1
               JOIN pg_locks l2 ON l2.virtualtransaction = l1.virtualtransaction AND l2.locktype = 'transactionid'
              WHERE l1.locktype = 'relation' AND l1.relation = 'eventstore_streams'::regclass
                AND l1.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    });
    const appending = new Set(locks.rows.map((row) => BigInt(row.xid)));
    const relevant = candidates.filter((id) => appending.has(id & 0xffffffffn));
    const unknown = candidates.filter((id) => !appending.has(id & 0xffffffffn));
    if (unknown.length === 0) return relevant;
    const statuses = await pool.query<{ id: string; status: string | null }>({
      name: 'es_xact_status',
      text: 'SELECT id, pg_xact_status(id::xid8) AS status FROM unnest($1::text[]) AS id',
      values: [unknown.map(String)],
    });
    // Committed since the snapshot: it matters only if it appended here. Asked in a later statement,
    // whose snapshot sees every row of a transaction already committed.
    const committed = statuses.rows.filter((row) => row.status === 'committed').map((row) => row.id);
    if (committed.length === 0) return relevant;
    const wrote = await pool.query<{ id: string }>({
      name: 'es_wrote_events',
      text: `SELECT id FROM unnest($1::text[]) AS id
              WHERE EXISTS (SELECT 1 FROM eventstore_events e WHERE e.transaction_id = id::xid8)`,
      values: [committed],
    });
    for (const row of wrote.rows) relevant.push(BigInt(row.id));
    return relevant;
  }

  /** The current snapshot: xmin, and which transaction ids it sees as committed. */
  async function currentSnapshot(): Promise<{ xmin: bigint; visible(transactionId: bigint): boolean }> {
    const result = await pool.query<{ snapshot: string }>({
      name: 'es_snapshot',
      text: 'SELECT pg_current_snapshot()::text AS snapshot',
    });
    const snapshot = parseSnapshot(result.rows[0]!.snapshot);
    const inProgress = new Set(snapshot.inProgress);
    return {
      xmin: snapshot.xmin,
      visible: (id) => id < snapshot.xmin || (id < snapshot.xmax && !inProgress.has(id)),
    };
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
      const [kind, revision] = expectedParameters(expected);
      const row = await batcher.append({ stream, json: eventsJson(events), kind, revision });
      switch (row.outcome) {
        case 'ok':
        case 'duplicate':
          if (row.outcome === 'ok') {
            signal.wake();
            notifier.notify();
          }
          return {
            nextRevision: row.next_revision!,
            position: encodePosition(BigInt(row.txid!), row.last_position!),
          };
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
      if (result.rows.length === 0 && readOptions.missingAsEmpty !== true) {
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
      const detach = tail.attach();
      // From 'end': start at the snapshot's horizon, but leave out what that snapshot already saw
      // committed above it, so "new" means committed after subscribing, and nothing later is skipped.
      let alreadyCommitted: ((transactionId: bigint) => boolean) | undefined;
      const read = async (
        from: Position | 'start',
        limit: number,
        filter: EventFilter | undefined,
        live: boolean,
      ) => {
        const page =
          (live ? tail.page(from, limit, filter) : undefined) ?? (await readAll(from, limit, filter));
        if (alreadyCommitted === undefined) return page;
        const seen = alreadyCommitted;
        return {
          ...page,
          events: page.events.filter((event) => !seen(decodePosition(event.position).major)),
        };
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
          signal: tail.advanced,
          pollIntervalMs,
          onStop: detach,
        },
        subscribeOptions,
      );
    },

    async headInfo(after, cap, filter) {
      const { major, minor } = after === 'start' ? { major: 0n, minor: 0n } : decodePosition(after);
      const values: unknown[] = [major.toString(), minor.toString(), cap];
      const { conditions, suffix } = filterConditions(filter, values);
      // Both scans stay in the range after the checkpoint: a caught-up projection reads nothing.
      const ahead = `(e.transaction_id, e.global_position) > ($1::text::xid8, $2::bigint) ${conditions}`;
      const result = await pool.query<{ events_after: number; head_created_at: Date | null }>({
        name: `es_head_info${suffix}`,
        text: `SELECT (SELECT count(*)::int FROM (SELECT 1 FROM eventstore_events e WHERE ${ahead} LIMIT $3) counted) AS events_after,
                      (SELECT e.created_at FROM eventstore_events e WHERE ${ahead}
                        ORDER BY e.transaction_id DESC, e.global_position DESC LIMIT 1) AS head_created_at`,
        values,
      });
      const row = result.rows[0]!;
      return { eventsAfter: row.events_after, headCreatedAt: row.head_created_at };
    },

    async ping() {
      await pool.query('SELECT 1 FROM eventstore_streams LIMIT 1');
    },

    async close() {
      tail.close();
      await notifier.close();
      signal.wake();
    },
  };
}
