import {
  ANY,
  BACKWARDS,
  END,
  EventStoreDBClient,
  eventTypeFilter,
  excludeSystemEvents,
  FORWARDS,
  jsonEvent,
  MaxAppendSizeExceededError,
  NO_STREAM,
  START,
  STREAM_EXISTS,
  StreamNotFoundError,
  streamNameFilter,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AllStreamSubscription,
  type AppendExpectedRevision,
  type Filter,
  type JSONType,
  type Position as EsdbPosition,
  type ResolvedEvent,
} from '@eventstore/db-client';
import { matchesFilter, type EventStoreAdapter, type RawSubscribeOptions } from '../adapter.js';
import { EventTooLarge, StreamNotFound, WrongExpectedVersion } from '../errors.js';
import { comparePositions, decodePosition, encodePosition, maxPosition } from '../position.js';
import type {
  EventFilter,
  ExpectedRevision,
  Position,
  RecordedEvent,
  StartFrom,
  Subscription,
} from '../types.js';
import { sleep } from '../wake.js';

/**
 * The EventStoreDB adapter over @eventstore/db-client 6.x, chosen by EVENTSTORE_URL. Revisions
 * are already 0-based bigints there; positions are (commit, prepare) encoded like ours, so they
 * compare the same way. System events ($-prefixed types and streams) are never shown.
 */
export interface EsdbAdapterOptions {
  connectionString: string;
  /** Consecutive failed resubscriptions before the subscription reports its error. */
  maxResubscribeAttempts?: number;
}

type EsdbRecorded = NonNullable<AllStreamResolvedEvent['event']> | NonNullable<ResolvedEvent['event']>;

const toEsdbPosition = (position: Position): EsdbPosition => {
  const { major, minor } = decodePosition(position);
  return { commit: major, prepare: minor };
};

function isSystem(event: { streamId: string; type: string }): boolean {
  return event.type.startsWith('$') || event.streamId.startsWith('$');
}

function toRecorded(event: EsdbRecorded): RecordedEvent {
  const position =
    event.position === undefined
      ? encodePosition(0n, 0n)
      : encodePosition(event.position.commit, event.position.prepare);
  const metadata = (
    event.isJson &&
    typeof event.metadata === 'object' &&
    event.metadata !== null &&
    !(event.metadata instanceof Uint8Array)
      ? event.metadata
      : {}
  ) as Record<string, unknown>;
  return {
    id: event.id,
    type: event.type,
    data: event.isJson ? event.data : Buffer.from(event.data as Uint8Array).toString('base64'),
    metadata: {
      ...metadata,
      schemaVersion: typeof metadata.schemaVersion === 'number' ? metadata.schemaVersion : 1,
    },
    stream: event.streamId,
    revision: event.revision,
    position,
    createdAt: event.created,
  };
}

function expectedRevision(expected: ExpectedRevision): AppendExpectedRevision {
  switch (expected) {
    case 'any':
      return ANY;
    case 'no_stream':
      return NO_STREAM;
    case 'stream_exists':
      return STREAM_EXISTS;
    default:
      return expected;
  }
}

/** Server-side filter: stream prefixes, or exact event types as an anchored regex. */
function serverFilter(filter: EventFilter | undefined): Filter {
  const prefixes = filter?.streamPrefixes ?? [];
  const types = filter?.eventTypes ?? [];
  if (prefixes.length > 0) return streamNameFilter({ prefixes: [...prefixes] });
  if (types.length > 0) {
    const escaped = types.map((type) => type.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    return eventTypeFilter({ regex: `^(${escaped.join('|')})$` });
  }
  return excludeSystemEvents();
}

export function createEsdbAdapter(options: EsdbAdapterOptions): EventStoreAdapter {
  const client = EventStoreDBClient.connectionString(options.connectionString);
  const maxResubscribeAttempts = options.maxResubscribeAttempts ?? 10;

  async function readAll(from: StartFrom, limit: number, filter: EventFilter | undefined) {
    const events: RecordedEvent[] = [];
    let scanned = 0;
    let last: Position | 'start' = from === 'end' ? await headPosition() : from;
    const start = last;
    const read = client.readAll({
      direction: FORWARDS,
      fromPosition: start === 'start' ? START : toEsdbPosition(start),
      maxCount: limit + 1,
    });
    for await (const resolved of read) {
      const event = resolved.event;
      if (event === undefined) continue;
      const position = encodePosition(event.position.commit, event.position.prepare);
      // fromPosition is inclusive in EventStoreDB; our checkpoints are exclusive.
      if (comparePositions(position, start) <= 0) continue;
      scanned += 1;
      last = position;
      if (!isSystem(event) && matchesFilter(filter, event.streamId, event.type))
        events.push(toRecorded(event));
      if (scanned >= limit) break;
    }
    return { events, nextPosition: last, isEnd: scanned < limit };
  }

  async function headPosition(): Promise<Position | 'start'> {
    for await (const resolved of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) {
      if (resolved.event !== undefined)
        return encodePosition(resolved.event.position.commit, resolved.event.position.prepare);
    }
    return 'start';
  }

  return {
    kind: 'eventstoredb',

    async append(stream, events, expected) {
      try {
        const result = await client.appendToStream(
          stream,
          events.map((event) =>
            jsonEvent({
              id: event.id,
              type: event.type,
              data: event.data as JSONType,
              metadata: event.metadata,
            }),
          ),
          { expectedRevision: expectedRevision(expected) },
        );
        const position =
          result.position === undefined
            ? encodePosition(0n, 0n)
            : encodePosition(result.position.commit, result.position.prepare);
        return { nextRevision: result.nextExpectedRevision, position };
      } catch (error) {
        if (error instanceof WrongExpectedVersionError) {
          throw new WrongExpectedVersion(
            stream,
            expected,
            error.actualVersion === NO_STREAM ? 'no_stream' : error.actualVersion,
          );
        }
        if (error instanceof MaxAppendSizeExceededError) {
          const size = events.reduce(
            (total, event) => total + event.dataJson.length + event.metadataJson.length,
            0,
          );
          throw new EventTooLarge(
            stream,
            size,
            (error as { maxAppendSize?: number }).maxAppendSize ?? 0,
            'append',
          );
        }
        throw error;
      }
    },

    async readStream(stream, readOptions) {
      const forwards = readOptions.direction === 'forwards';
      try {
        const events: RecordedEvent[] = [];
        const read = client.readStream(stream, {
          direction: forwards ? FORWARDS : BACKWARDS,
          fromRevision: readOptions.fromRevision ?? (forwards ? START : END),
          maxCount: readOptions.maxCount,
        });
        for await (const resolved of read)
          if (resolved.event !== undefined) events.push(toRecorded(resolved.event));
        return events;
      } catch (error) {
        if (error instanceof StreamNotFoundError) throw new StreamNotFound(stream);
        throw error;
      }
    },

    readAll,

    subscribeToAll(subscribeOptions) {
      return esdbSubscription(client, subscribeOptions, maxResubscribeAttempts, headPosition);
    },

    async headInfo(after, cap, filter) {
      let eventsAfter = 0;
      let headCreatedAt: Date | null = null;
      for await (const resolved of client.readAll({
        direction: BACKWARDS,
        fromPosition: END,
        maxCount: cap,
      })) {
        const event = resolved.event;
        if (event === undefined || isSystem(event)) continue;
        if (
          after !== 'start' &&
          comparePositions(encodePosition(event.position.commit, event.position.prepare), after) <= 0
        )
          break;
        if (!matchesFilter(filter, event.streamId, event.type)) continue;
        headCreatedAt ??= event.created;
        eventsAfter += 1;
      }
      return { eventsAfter, headCreatedAt };
    },

    async ping() {
      for await (const _event of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 }))
        break;
    },

    async close() {
      await client.dispose();
    },
  };
}

class HandlerError extends Error {
  constructor(override readonly cause: unknown) {
    super('subscription handler failed');
  }
}

/**
 * A catch-up subscription to $all that resubscribes from our own last handled position after a
 * drop, so nothing is missed and nothing is delivered twice. Handler calls (events and the
 * caught-up signal) run one at a time in order; the stream waits for each (back-pressure).
 * Filter checkpoints only tell how far the server scanned (for caught-up), never move the
 * resume position past an event not yet handled.
 */
function esdbSubscription(
  client: EventStoreDBClient,
  options: RawSubscribeOptions,
  maxAttempts: number,
  headPosition: () => Promise<Position | 'start'>,
): Subscription {
  let position: Position | 'start' = 'start';
  let scanned: Position | 'start' = 'start';
  let current: AllStreamSubscription | undefined;
  let stopping = false;
  let live = false;
  let failure: HandlerError | undefined;
  let chain: Promise<void> = Promise.resolve();
  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (resolveCaughtUp = resolve));

  /** Runs handler work after whatever handler work is queued; a failure stops the subscription. */
  const serial = (work: () => Promise<void> | void): Promise<void> => {
    chain = chain.then(async () => {
      if (failure !== undefined || stopping) return;
      try {
        await work();
      } catch (error) {
        failure = new HandlerError(error);
        await current?.unsubscribe().catch(() => undefined);
      }
    });
    return chain;
  };

  const markCaughtUp = () =>
    serial(async () => {
      if (live) return;
      live = true;
      await options.onCaughtUp(position);
      resolveCaughtUp();
    });

  async function runOnce(): Promise<void> {
    const subscription = client.subscribeToAll({
      fromPosition: position === 'start' ? START : toEsdbPosition(position),
      filter: {
        ...serverFilter(options.filter),
        checkpointReached: (_subscription, checkpoint) => {
          scanned = maxPosition(scanned, encodePosition(checkpoint.commit, checkpoint.prepare));
        },
      },
    });
    current = subscription;
    subscription.on('caughtUp', () => void markCaughtUp());
    for await (const resolved of subscription) {
      const event = resolved.event;
      if (event === undefined) continue;
      const eventPosition = encodePosition(event.position.commit, event.position.prepare);
      if (comparePositions(eventPosition, position) <= 0) continue;
      if (!isSystem(event) && matchesFilter(options.filter, event.streamId, event.type)) {
        const recorded = toRecorded(event);
        await serial(() => options.onBatch([recorded], { live, position: eventPosition }));
        if (failure !== undefined) throw failure;
      }
      position = eventPosition;
      scanned = maxPosition(scanned, eventPosition);
    }
    if (failure !== undefined) throw failure;
  }

  async function run(): Promise<void> {
    position = options.from === 'end' ? await headPosition() : options.from;
    scanned = position;
    // Servers that never send 'caughtUp': caught up once the scan reaches the head seen at start.
    void (async () => {
      const head = await headPosition();
      while (!stopping && !live && comparePositions(scanned, head) < 0) await sleep(20);
      if (!stopping) await markCaughtUp();
    })().catch(() => undefined);
    for (let failures = 0; !stopping;) {
      try {
        await runOnce();
        failures = 0;
      } catch (error) {
        if (stopping) return;
        // A throwing handler stops the subscription; only a dropped connection resubscribes.
        if (error instanceof HandlerError) throw error.cause;
        failures += 1;
        if (failures >= maxAttempts) throw error;
        await sleep(Math.min(100 * 2 ** failures, 5_000));
      }
    }
  }

  const stopped = run().then(
    () => undefined,
    (error: unknown) => {
      if (!stopping) options.onError(error);
    },
  );
  return {
    caughtUp,
    stopped,
    position: () => position,
    async stop() {
      stopping = true;
      await current?.unsubscribe().catch(() => undefined);
      await stopped;
      await chain;
    },
  };
}
