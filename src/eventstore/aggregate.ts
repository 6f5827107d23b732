import { traced } from '../telemetry/tracing.js';
import { StreamNotFound, WrongExpectedVersion } from './errors.js';
import { erasureEpoch } from './store.js';
import {
  LIMITS,
  type AppendResult,
  type EventMetadata,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
} from './types.js';
import { LRUCache } from 'lru-cache';

/**
 * An Emmett-style decider: pure `decide(command, state)` and `evolve(state, event)`.
 * Events are `{ type, data }`; `decide` may return extra fields of NewEvent (id, personalData).
 */
export interface Decider<Command, Event extends { type: string; data: unknown }, State> {
  initialState(): State;
  evolve(state: State, event: Event): State;
  decide(command: Command, state: State): Event[] | (Event & Omit<NewEvent, 'type' | 'data'>)[];
}

export interface HandleCommandOptions {
  /** Attempts when another writer wins the race (WrongExpectedVersion); at most 10. Default 3. */
  maxAttempts?: number;
  /** Metadata stamped on every new event (correlation, causation, actor). */
  metadata?: EventMetadata;
  /** Refuse to load streams longer than this (a long stream needs snapshots). Default 10,000. */
  maxEvents?: number;
}

/**
 * The last state this process wrote to each stream, so the next command on it needs no read. It is
 * only a guess: the append still carries the expected revision, so a stream another writer moved
 * meanwhile fails with WrongExpectedVersion and the command is decided again on a fresh read.
 * Bounded, and entries expire after `ttlMs`. States may hold decrypted personal data: an erasure
 * made by this process empties every cache at once; one made by another instance is outlived by
 * at most `ttlMs` (read paths never use this cache).
 */
export interface AggregateCache<State> {
  get(stream: string): { state: State; revision: bigint } | undefined;
  set(stream: string, state: State, revision: bigint): void;
  delete(stream: string): void;
}

export function createAggregateCache<State>(
  options: { maxEntries?: number; ttlMs?: number; now?: () => number } = {},
): AggregateCache<State> {
  const maxEntries = options.maxEntries ?? 10_000;
  const ttlMs = options.ttlMs ?? 30_000;
  const now = options.now ?? Date.now;
  const entries = new LRUCache<string, { state: State; revision: bigint; expiresAt: number }>({
    max: maxEntries,
  });
  let epoch = erasureEpoch();
  return {
    get(stream) {
      if (epoch !== erasureEpoch()) {
        // Someone's personal data was erased in this process: forget every decrypted state.
        entries.clear();
        epoch = erasureEpoch();
      }
      const entry = entries.get(stream);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(stream);
        return undefined;
      }
      return { state: entry.state, revision: entry.revision };
    },
    set(stream, state, revision) {
      entries.set(stream, { state, revision, expiresAt: now() + ttlMs });
    },
    delete(stream) {
      entries.delete(stream);
    },
  };
}

export interface HandleCommandResult<Event, State> {
  state: State;
  newEvents: Event[];
  /** The stream's revision after the append, or before it when the decider returned no event. */
  revision: bigint | 'no_stream';
  position?: AppendResult['position'];
}

/** Reads a whole stream in bounded pages and folds it; `revision` is 'no_stream' when absent. */
export async function aggregateStream<Event extends { type: string; data: unknown }, State>(
  store: EventStore,
  stream: string,
  evolve: (state: State, event: Event) => State,
  initial: State,
  maxEvents = 10_000,
): Promise<{ state: State; revision: bigint | 'no_stream'; events: number }> {
  let state = initial;
  let revision: bigint | 'no_stream' = 'no_stream';
  let next = 0n;
  let count = 0;
  for (;;) {
    let page: RecordedEvent[];
    try {
      page = await store.readStream(stream, {
        fromRevision: next,
        maxCount: LIMITS.maxReadCount,
        missingAsEmpty: true,
      });
    } catch (error) {
      if (error instanceof StreamNotFound) return { state, revision, events: 0 };
      throw error;
    }
    for (const event of page) state = evolve(state, event as unknown as Event);
    count += page.length;
    if (count > maxEvents)
      throw new Error(`stream ${stream} has more than ${maxEvents} events; load it from a snapshot`);
    const last = page.at(-1);
    if (last !== undefined) revision = last.revision;
    if (page.length < LIMITS.maxReadCount) return { state, revision, events: count };
    next = (last?.revision ?? next) + 1n;
  }
}

/**
 * A decider call in its own span (docs/operations.md, "Tracing"): the stream, the command's type
 * and how many events it decided. Free when tracing is off.
 */
export function tracedDecide<Events extends readonly unknown[]>(
  stream: string,
  command: unknown,
  decide: () => Events,
): Events {
  const type = (command as { type?: unknown } | null)?.type;
  return traced(
    'decide',
    { 'eventstore.stream': stream, 'decider.command': typeof type === 'string' ? type : 'unknown' },
    (span) => {
      const events = decide();
      span?.setAttribute('decider.events', events.length);
      return events;
    },
  );
}

/**
 * Read, decide, append with the expected revision; on WrongExpectedVersion reload and decide again,
 * a bounded number of times. Domain errors thrown by `decide` pass through untouched.
 */
export async function handleCommand<Command, Event extends { type: string; data: unknown }, State>(
  store: EventStore,
  stream: string,
  decider: Decider<Command, Event, State>,
  command: Command,
  options: HandleCommandOptions & { cache?: AggregateCache<State> } = {},
): Promise<HandleCommandResult<Event, State>> {
  const maxAttempts = Math.min(Math.max(options.maxAttempts ?? 3, 1), 10);
  const { cache } = options;
  const read = () =>
    aggregateStream(store, stream, decider.evolve, decider.initialState(), options.maxEvents);
  type Decided = {
    loaded: { state: State; revision: bigint | 'no_stream' };
    newEvents: (Event & Omit<NewEvent, 'type' | 'data'>)[];
  };
  const decideOn = (loaded: Decided['loaded']): Decided => ({
    loaded,
    newEvents: tracedDecide(stream, command, () =>
      decider.decide(command, loaded.state),
    ) as Decided['newEvents'],
  });
  /** On a remembered state, a refusal or a no-op may only mean the state is old: decide again on a read. */
  async function decideFresh(attempt: number): Promise<Decided> {
    const cached = attempt === 1 ? cache?.get(stream) : undefined;
    if (cached === undefined) return decideOn(await read());
    try {
      const decided = decideOn(cached);
      if (decided.newEvents.length > 0) return decided;
    } catch {
      // fall through to a fresh read
    }
    cache?.delete(stream);
    return decideOn(await read());
  }
  for (let attempt = 1; ; attempt += 1) {
    const { loaded, newEvents } = await decideFresh(attempt);
    if (newEvents.length === 0) return { state: loaded.state, newEvents: [], revision: loaded.revision };
    try {
      const result = await store.append(
        stream,
        newEvents.map((event) => ({ ...event, metadata: { ...options.metadata, ...event.metadata } })),
        { expectedRevision: loaded.revision === 'no_stream' ? 'no_stream' : loaded.revision },
      );
      const state = newEvents.reduce<State>((current, event) => decider.evolve(current, event), loaded.state);
      cache?.set(stream, state, result.nextRevision);
      return { state, newEvents, revision: result.nextRevision, position: result.position };
    } catch (error) {
      cache?.delete(stream);
      if (!(error instanceof WrongExpectedVersion) || attempt >= maxAttempts) throw error;
    }
  }
}
