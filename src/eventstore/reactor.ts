/**
 * A checkpointed reactor: follows $all through a filter, hands each event to `handle`, and saves
 * its position after every batch in a `<context>_reactor_checkpoints` table (name, position,
 * updated_at). Delivery is at least once (a batch handled, then a crash before the checkpoint,
 * is handled again), so every effect must be idempotent. A failing handler or store stops the
 * subscription; the reactor restarts from its checkpoint after `restartDelayMs`.
 */
import { sql, type QueryExecutorProvider } from 'kysely';
import type { Logger } from 'pino';
import type { EventFilter, EventStore, Position, RecordedEvent, Subscription } from './types.js';

export interface ReactorOptions {
  name: string;
  /** Runs the checkpoint's SQL (any Kysely handle): the reactor knows no table but its own. */
  db: QueryExecutorProvider;
  /** The table holding this context's reactor checkpoints (the context's migration creates it). */
  checkpointTable: `${string}_reactor_checkpoints`;
  eventStore: EventStore;
  filter: EventFilter;
  logger: Logger;
  handle(event: RecordedEvent): Promise<void>;
  /**
   * Handles a whole batch at once instead (bulk reads and writes over its events); `handle` is then
   * unused. The batch is handled again after a crash before its checkpoint, as one event would be.
   */
  handleBatch?(events: readonly RecordedEvent[]): Promise<void>;
  batchSize?: number;
  restartDelayMs?: number;
  /**
   * Where a reactor without a checkpoint begins: 'start' (the default: every event, for reactors
   * that keep state) or 'end' (events after its first start only: a reactor that tells people
   * must not message them about last year's orders the day it is deployed). The head is saved as
   * the checkpoint at once, so a restart before the first event misses nothing.
   */
  firstStart?: 'start' | 'end';
}

export interface Reactor {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createReactor(options: ReactorOptions): Reactor {
  const { db, name, logger } = options;
  const table = sql.table(options.checkpointTable);
  let subscription: Subscription | undefined;
  let stopped = true;
  let restartTimer: NodeJS.Timeout | undefined;

  async function checkpoint(): Promise<Position | 'start'> {
    const result = await sql<{
      position: string;
    }>`SELECT position FROM ${table} WHERE name = ${name}`.execute(db);
    return (result.rows[0]?.position as Position | undefined) ?? 'start';
  }

  async function saveCheckpoint(position: Position | 'start'): Promise<void> {
    if (position === 'start') return;
    await sql`INSERT INTO ${table} (name, position) VALUES (${name}, ${position})
      ON CONFLICT (name) DO UPDATE SET position = excluded.position, updated_at = now()`.execute(db);
  }

  async function start(): Promise<void> {
    stopped = false;
    let from = await checkpoint();
    if (from === 'start' && options.firstStart === 'end') {
      from = (await options.eventStore.readAll('end', { limit: 1 })).nextPosition;
      await saveCheckpoint(from);
    }
    if (stopped) return;
    subscription = options.eventStore.subscribeToAll({
      from,
      filter: options.filter,
      batchSize: options.batchSize ?? 100,
      onBatch: async (events, context) => {
        if (options.handleBatch !== undefined) await options.handleBatch(events);
        else for (const event of events) await options.handle(event);
        await saveCheckpoint(context.position);
      },
      onError: (error) => {
        // An outage of the database or of what the handler calls: resume from the checkpoint later.
        logger.error({ err: error, reactor: name }, 'reactor stopped; restarting from its checkpoint');
        restartLater();
      },
    });
  }

  /** Tries again after the delay, and again after each failed start (the checkpoint read, say). */
  function restartLater(): void {
    if (stopped) return;
    restartTimer = setTimeout(() => {
      start().catch((error: unknown) => {
        logger.error({ err: error, reactor: name }, 'reactor restart failed; trying again');
        restartLater();
      });
    }, options.restartDelayMs ?? 2_000);
  }

  return {
    start,
    async stop() {
      stopped = true;
      clearTimeout(restartTimer);
      await subscription?.stop();
    },
  };
}
