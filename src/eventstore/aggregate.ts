import { StreamNotFound, WrongExpectedVersion } from './errors.js';
import { LIMITS, type AppendResult, type EventMetadata, type EventStore, type NewEvent, type RecordedEvent } from './types.js';

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
      page = await store.readStream(stream, { fromRevision: next, maxCount: LIMITS.maxReadCount });
    } catch (error) {
      if (error instanceof StreamNotFound) return { state, revision, events: 0 };
      throw error;
    }
    for (const event of page) state = evolve(state, event as unknown as Event);
    count += page.length;
    if (count > maxEvents) throw new Error(`stream ${stream} has more than ${maxEvents} events; load it from a snapshot`);
    const last = page.at(-1);
    if (last !== undefined) revision = last.revision;
    if (page.length < LIMITS.maxReadCount) return { state, revision, events: count };
    next = (last?.revision ?? next) + 1n;
  }
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
  options: HandleCommandOptions = {},
): Promise<HandleCommandResult<Event, State>> {
  const maxAttempts = Math.min(Math.max(options.maxAttempts ?? 3, 1), 10);
  for (let attempt = 1; ; attempt += 1) {
    const loaded = await aggregateStream(store, stream, decider.evolve, decider.initialState(), options.maxEvents);
    const newEvents = decider.decide(command, loaded.state) as (Event & Omit<NewEvent, 'type' | 'data'>)[];
    if (newEvents.length === 0) return { state: loaded.state, newEvents: [], revision: loaded.revision };
    try {
      const result = await store.append(
        stream,
        newEvents.map((event) => ({ ...event, metadata: { ...options.metadata, ...event.metadata } })),
        { expectedRevision: loaded.revision === 'no_stream' ? 'no_stream' : loaded.revision },
      );
      const state = newEvents.reduce<State>((current, event) => decider.evolve(current, event), loaded.state);
      return { state, newEvents, revision: result.nextRevision, position: result.position };
    } catch (error) {
      if (!(error instanceof WrongExpectedVersion) || attempt >= maxAttempts) throw error;
    }
  }
}
