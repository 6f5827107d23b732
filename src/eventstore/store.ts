import { randomUUID } from 'node:crypto';
import { traced } from '../telemetry/tracing.js';
import type { EventStoreAdapter, StoredEvent } from './adapter.js';
import { EventTooLarge, InvalidAppend } from './errors.js';
import { isSealed, SEALED_FIELD, type PersonalDataVault } from './personal-data.js';
import { createUpcasterRegistry, type UpcasterRegistry } from './upcasting.js';
import {
  LIMITS,
  PERSONAL_DATA_ERASED,
  personalDataStream,
  type AppendOptions,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  type SubscribeOptions,
} from './types.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Stream names: printable, no whitespace; `$` is reserved by EventStoreDB for system streams.
const STREAM_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:@+=-]*$/;
const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9._:-]{0,199}$/;

export interface EventStoreOptions {
  adapter: EventStoreAdapter;
  vault: PersonalDataVault;
  upcasters?: UpcasterRegistry;
}

/**
 * Counts erasures made by this process, so that memories of decrypted state (AggregateCache) can
 * forget everything at once when someone's personal data is erased.
 */
let erasures = 0;
export const erasureEpoch = (): number => erasures;

function assertStreamName(stream: string): void {
  if (stream.length > LIMITS.maxStreamNameLength || !STREAM_PATTERN.test(stream)) {
    throw new InvalidAppend(`invalid stream name ${JSON.stringify(stream.slice(0, 60))}`);
  }
}

function boundedCount(count: number | undefined, fallback: number): number {
  const value = count ?? fallback;
  if (!Number.isInteger(value) || value < 1 || value > LIMITS.maxReadCount) {
    throw new RangeError(`a read count is 1-${LIMITS.maxReadCount}, got ${value}`);
  }
  return value;
}

/**
 * The port every context uses: validation, limits, crypto-shredding and upcasting live here once,
 * in front of either adapter.
 */
export function createEventStore(options: EventStoreOptions): EventStore & { upcasters: UpcasterRegistry } {
  const { adapter, vault } = options;
  const upcasters = options.upcasters ?? createUpcasterRegistry();

  async function prepare(stream: string, event: NewEvent): Promise<StoredEvent> {
    const id = event.id ?? randomUUID();
    if (!UUID_PATTERN.test(id)) throw new InvalidAppend(`event id ${JSON.stringify(id)} is not a uuid`);
    if (!TYPE_PATTERN.test(event.type))
      throw new InvalidAppend(`invalid event type ${JSON.stringify(event.type)}`);
    const schemaVersion = event.metadata?.schemaVersion ?? 1;
    if (!Number.isInteger(schemaVersion) || schemaVersion < 1)
      throw new InvalidAppend('schemaVersion is an integer >= 1');
    const metadata = { ...event.metadata, schemaVersion };
    let data = event.data;
    if (event.personalData !== undefined) {
      if (typeof data !== 'object' || data === null || Array.isArray(data)) {
        throw new InvalidAppend('personal data can only be marked on object data');
      }
      data = await vault.seal(data as Record<string, unknown>, event.personalData, {
        stream,
        eventId: id,
        type: event.type,
        schemaVersion,
      });
    }
    const dataJson = JSON.stringify(data ?? null);
    const metadataJson = JSON.stringify(metadata);
    const sizeBytes = Buffer.byteLength(dataJson) + Buffer.byteLength(metadataJson);
    if (sizeBytes > LIMITS.maxEventBytes) throw new EventTooLarge(stream, sizeBytes, LIMITS.maxEventBytes);
    return { id, type: event.type, data, metadata, dataJson, metadataJson };
  }

  /** Opens sealed personal data, then upcasts: the shape every reader sees. */
  async function present(event: RecordedEvent): Promise<RecordedEvent> {
    const storedVersion = event.metadata.schemaVersion ?? 1;
    let data = event.data;
    if (
      typeof data === 'object' &&
      data !== null &&
      isSealed((data as Record<string, unknown>)[SEALED_FIELD])
    ) {
      data = await vault.open(data, {
        stream: event.stream,
        eventId: event.id,
        type: event.type,
        schemaVersion: storedVersion,
      });
    }
    const upcast = upcasters.upcast(event.type, storedVersion, data, event.metadata);
    return {
      ...event,
      data: upcast.data,
      metadata: { ...event.metadata, schemaVersion: upcast.schemaVersion },
    };
  }
  const presentAll = (events: RecordedEvent[]) => Promise.all(events.map(present));

  /** Validates, seals and sizes the events, then hands them to the adapter. */
  async function appendNow(
    stream: string,
    events: readonly NewEvent[],
    appendOptions: AppendOptions,
  ): Promise<AppendResult> {
    assertStreamName(stream);
    if (events.length === 0 || events.length > LIMITS.maxEventsPerAppend) {
      throw new InvalidAppend(`an append holds 1-${LIMITS.maxEventsPerAppend} events, got ${events.length}`);
    }
    const expected = appendOptions.expectedRevision ?? 'any';
    if (typeof expected === 'bigint' && expected < 0n)
      throw new InvalidAppend('expectedRevision must be >= 0');
    const prepared: StoredEvent[] = [];
    let totalBytes = 0;
    for (const event of events) {
      const stored = await prepare(stream, event);
      totalBytes += stored.dataJson.length + stored.metadataJson.length;
      prepared.push(stored);
    }
    if (totalBytes > LIMITS.maxAppendBytes)
      throw new EventTooLarge(stream, totalBytes, LIMITS.maxAppendBytes, 'append');
    return adapter.append(stream, prepared, expected);
  }

  const store: EventStore & { upcasters: UpcasterRegistry } = {
    kind: adapter.kind,
    upcasters,

    append(stream, events, appendOptions = {}) {
      return traced(
        'eventstore.append',
        {
          'eventstore.stream': stream,
          'eventstore.events': events.length,
          'eventstore.event_type': events[0]?.type ?? '',
          'eventstore.adapter': adapter.kind,
        },
        () => appendNow(stream, events, appendOptions),
      );
    },

    async readStream(stream, readOptions = {}) {
      assertStreamName(stream);
      const events = await adapter.readStream(stream, {
        direction: readOptions.direction ?? 'forwards',
        fromRevision: readOptions.fromRevision,
        maxCount: boundedCount(readOptions.maxCount, LIMITS.maxReadCount),
        ...(readOptions.missingAsEmpty === true ? { missingAsEmpty: true } : {}),
      });
      return presentAll(events);
    },

    async readAll(from, readOptions = {}) {
      const page = await adapter.readAll(from, boundedCount(readOptions.limit, 500), readOptions.filter);
      return { ...page, events: await presentAll(page.events) };
    },

    subscribeToAll(subscribeOptions: SubscribeOptions) {
      const { onBatch, onEvent } = subscribeOptions;
      if (onBatch === undefined && onEvent === undefined)
        throw new Error('subscribeToAll needs onBatch or onEvent');
      return adapter.subscribeToAll({
        from: subscribeOptions.from,
        filter: subscribeOptions.filter,
        batchSize: boundedCount(subscribeOptions.batchSize, 500),
        async onBatch(raw, context) {
          const events = await presentAll(raw);
          if (onBatch !== undefined) return onBatch(events, context);
          for (const event of events) await onEvent!(event, context);
        },
        onCaughtUp: (position) => subscribeOptions.onCaughtUp?.(position),
        onError: (error) => subscribeOptions.onError?.(error),
      });
    },

    headInfo: (after, cap, filter) => adapter.headInfo(after, cap, filter),

    async erasePersonalData(subjectId: string, metadata?: EventMetadata) {
      await vault.erase(subjectId);
      erasures += 1;
      return store.append(personalDataStream(subjectId), [
        { type: PERSONAL_DATA_ERASED, data: { subjectId }, metadata: { ...metadata, schemaVersion: 1 } },
      ]);
    },

    ping: () => adapter.ping(),
    close: () => adapter.close(),
  };
  return store;
}
