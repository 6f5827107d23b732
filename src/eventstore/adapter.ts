import type {
  AppendResult,
  EventFilter,
  ExpectedRevision,
  Position,
  ReadAllPage,
  RecordedEvent,
  StartFrom,
  Subscription,
  SubscriptionContext,
} from './types.js';

/**
 * What an adapter implements. The facade (store.ts) validates, seals personal data, measures
 * sizes and serializes once before calling `append`; it opens sealed data and upcasts after
 * every read. Adapters only store and fetch.
 */
export interface StoredEvent {
  id: string;
  type: string;
  data: unknown;
  metadata: Record<string, unknown> & { schemaVersion: number };
  /** JSON of data and metadata, already measured against the limits. */
  dataJson: string;
  metadataJson: string;
}

export interface RawSubscribeOptions {
  from: StartFrom;
  filter: EventFilter | undefined;
  batchSize: number;
  onBatch(
    events: RecordedEvent[],
    context: SubscriptionContext & { position: Position | 'start' },
  ): Promise<void>;
  onCaughtUp(position: Position | 'start'): Promise<void> | void;
  onError(error: unknown): void;
}

export interface EventStoreAdapter {
  readonly kind: 'postgres' | 'eventstoredb';
  append(stream: string, events: readonly StoredEvent[], expected: ExpectedRevision): Promise<AppendResult>;
  readStream(
    stream: string,
    options: {
      direction: 'forwards' | 'backwards';
      fromRevision: bigint | undefined;
      maxCount: number;
      missingAsEmpty?: boolean;
    },
  ): Promise<RecordedEvent[]>;
  readAll(from: StartFrom, limit: number, filter: EventFilter | undefined): Promise<ReadAllPage>;
  subscribeToAll(options: RawSubscribeOptions): Subscription;
  headInfo(
    after: Position | 'start',
    cap: number,
    filter: EventFilter | undefined,
  ): Promise<{ eventsAfter: number; headCreatedAt: Date | null }>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** True when the event passes the filter (prefixes OR-ed, types OR-ed, the two AND-ed). */
export function matchesFilter(filter: EventFilter | undefined, stream: string, type: string): boolean {
  if (filter === undefined) return true;
  const prefixes = filter.streamPrefixes;
  if (
    prefixes !== undefined &&
    prefixes.length > 0 &&
    !prefixes.some((prefix) => stream.startsWith(prefix))
  ) {
    return false;
  }
  const types = filter.eventTypes;
  return types === undefined || types.length === 0 || types.includes(type);
}
