/**
 * The event store port (docs/architecture.md, decision 1). Orders, payments, wallets and the ledger depend on
 * this file only; the PostgreSQL and EventStoreDB adapters implement it.
 *
 * Revisions are 0-based everywhere (the first event of a stream is revision 0n). Positions are
 * opaque strings that compare with `comparePositions` (and, by construction, lexicographically).
 */

/** An opaque, comparable checkpoint in the global order ($all). */
export type Position = string & { readonly __position: unique symbol };

/** Where a reader of $all starts: before every event, after the last one, or after a checkpoint. */
export type StartFrom = 'start' | 'end' | Position;

export type ExpectedRevision = 'any' | 'no_stream' | 'stream_exists' | bigint;

/** Who caused an event and why: every field optional but `schemaVersion` (defaults to 1). */
export interface EventMetadata {
  correlationId?: string;
  causationId?: string;
  actorId?: string;
  actorRole?: string;
  ip?: string;
  userAgent?: string;
  schemaVersion?: number;
  [extension: string]: unknown;
}

/** Marks top-level fields of `data` as personal data of one person (crypto-shredded, docs/architecture.md, decision 8). */
export interface PersonalDataMarker {
  subjectId: string;
  fields: readonly string[];
}

export interface NewEvent<Type extends string = string, Data = unknown> {
  /** A uuid; set it to make retries idempotent (a retry with the same ids writes nothing twice). */
  id?: string;
  type: Type;
  data: Data;
  metadata?: EventMetadata;
  personalData?: PersonalDataMarker;
}

export interface RecordedEvent<Type extends string = string, Data = unknown> {
  id: string;
  type: Type;
  data: Data;
  metadata: EventMetadata & { schemaVersion: number };
  stream: string;
  revision: bigint;
  position: Position;
  createdAt: Date;
}

export interface AppendOptions {
  expectedRevision?: ExpectedRevision;
}

export interface AppendResult {
  /** The revision of the last event written (the stream's current revision). */
  nextRevision: bigint;
  position: Position;
}

export interface ReadStreamOptions {
  direction?: 'forwards' | 'backwards';
  /** Inclusive; defaults to the first (forwards) or last (backwards) revision. */
  fromRevision?: bigint;
  /** At most MAX_READ_COUNT. */
  maxCount?: number;
  /**
   * Answer a stream that does not exist with no events instead of StreamNotFound (a stream never
   * exists without events): saves the PostgreSQL adapter the existence check.
   */
  missingAsEmpty?: boolean;
}

export interface EventFilter {
  /** Events whose stream name starts with any of these. */
  streamPrefixes?: readonly string[];
  /** Events of any of these types. */
  eventTypes?: readonly string[];
}

export interface ReadAllOptions {
  limit?: number;
  filter?: EventFilter;
}

export interface ReadAllPage {
  events: RecordedEvent[];
  /** Pass to the next readAll; past every event read, and past filtered-out events. */
  nextPosition: Position | 'start';
  /** True when the page reached the end of what is readable now. */
  isEnd: boolean;
}

export interface SubscriptionContext {
  /** True once the subscription has read everything that was readable when it caught up. */
  live: boolean;
}

export interface SubscribeOptions {
  from: StartFrom;
  filter?: EventFilter;
  /** Events per batch, at most MAX_READ_COUNT. */
  batchSize?: number;
  /** Handles a batch; the next batch waits for it (back-pressure). Throwing stops the subscription. */
  onBatch?(
    events: RecordedEvent[],
    context: SubscriptionContext & { position: Position | 'start' },
  ): Promise<void>;
  /** Per-event convenience, used when onBatch is absent. */
  onEvent?(event: RecordedEvent, context: SubscriptionContext): Promise<void> | void;
  onCaughtUp?(position: Position | 'start'): Promise<void> | void;
  /** Called once when the subscription stops on an error (a throwing handler or a store failure). */
  onError?(error: unknown): void;
}

export interface Subscription {
  /** Resolves when the subscription first caught up. */
  readonly caughtUp: Promise<void>;
  /** Resolves when the subscription stopped (stop() or an error). */
  readonly stopped: Promise<void>;
  /** The position after the last event handled. */
  position(): Position | 'start';
  stop(): Promise<void>;
}

export interface EventStore {
  readonly kind: 'postgres' | 'eventstoredb';
  append(stream: string, events: readonly NewEvent[], options?: AppendOptions): Promise<AppendResult>;
  /** Throws StreamNotFound when the stream has no event. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<RecordedEvent[]>;
  readAll(from: StartFrom, options?: ReadAllOptions): Promise<ReadAllPage>;
  subscribeToAll(options: SubscribeOptions): Subscription;
  /**
   * For lag figures: the events after `after` that pass `filter` (counted up to `cap`) and the time
   * of the newest of them (null when there is none).
   */
  headInfo(
    after: Position | 'start',
    cap: number,
    filter?: EventFilter,
  ): Promise<{ eventsAfter: number; headCreatedAt: Date | null }>;
  /** Deletes the person's data key and appends a PersonalDataErased event; reads then show [redacted]. */
  erasePersonalData(subjectId: string, metadata?: EventMetadata): Promise<AppendResult>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** The stream and type of the event appended when a person's data is erased. */
export const PERSONAL_DATA_ERASED = 'PersonalDataErased';
export const personalDataStream = (subjectId: string): string => `personal-data-${subjectId}`;
export const REDACTED = '[redacted]';

/** Limits (TIGER_STYLE: a limit on everything). */
export const LIMITS = {
  /** Serialized data + metadata of one event, in bytes (stored form, after encryption). */
  maxEventBytes: 256 * 1024,
  /** Events in one append. */
  maxEventsPerAppend: 1_000,
  /** Serialized bytes of one append (EventStoreDB's default maxAppendSize is 1 MiB). */
  maxAppendBytes: 1024 * 1024,
  /** Events in one read page or subscription batch. */
  maxReadCount: 1_000,
  /** Stream name length. */
  maxStreamNameLength: 200,
} as const;
