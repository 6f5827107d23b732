import { matchesFilter } from './adapter.js';
import { comparePositions, maxPosition } from './position.js';
import type { EventFilter, Position, ReadAllPage, RecordedEvent } from './types.js';
import { createWakeSignal, type WakeSignal } from './wake.js';

/**
 * One reader of the global log per process, shared by every live subscription.
 *
 * Without it, each live subscription re-read the log after every append: with twenty projections,
 * one order cost twenty reads. The tail reads once (unfiltered, from its own position), keeps the
 * recent events in memory, and wakes the subscriptions, which then take their page from memory,
 * filtered. The tail covers the interval (start, position]: every event in it is in memory. A
 * subscription whose position is not covered (it fell behind a trimmed buffer, or the tail failed)
 * gets `undefined` and reads the store itself, as before: coverage is an optimisation, never a
 * source of truth, so nothing can be skipped by it.
 */
export interface LiveTail {
  /** A page from memory when the tail covers `from`, else undefined (the caller reads the store). */
  page(from: Position | 'start', limit: number, filter: EventFilter | undefined): ReadAllPage | undefined;
  /** Woken whenever the tail has read further. */
  readonly advanced: WakeSignal;
  /** Keeps the tail reading while at least one subscription is attached; returns the detach. */
  attach(): () => void;
  close(): void;
}

export interface LiveTailOptions {
  /**
   * An unfiltered read of the global log, as the adapter's readAll. `heldBack` says whether an
   * open transaction may hide committed events from it (then the tail re-reads quickly; without
   * it, the next append's wake-up or the polling interval triggers the next read).
   */
  read(
    from: Position | 'start',
    limit: number,
  ): Promise<ReadAllPage & { heldBack?: boolean; storedBytes?: number[] }>;
  /** Appends in this process and notifications from others. */
  wake: WakeSignal;
  pollIntervalMs: number;
  /** Events kept in memory; older ones are dropped (subscriptions behind them read the store). */
  maxEvents?: number;
  /**
   * And bytes: an event's stored size (jsonb, maybe compressed) × 4 as an estimate of what its
   * parsed form takes in memory. Ledger batch events run to hundreds of kilobytes each.
   */
  maxBytes?: number;
  batchSize?: number;
}

/**
 * When a read was held back by an open transaction, the events behind it become readable when it
 * ends: re-read quickly a few times before falling back to the polling interval.
 */
const FAST_POLL_DELAYS_MS = [1, 2, 4, 8, 16, 32, 64];

export function createLiveTail(options: LiveTailOptions): LiveTail {
  const maxEvents = options.maxEvents ?? 10_000;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  /** When the reader gives no sizes. */
  const DEFAULT_EVENT_BYTES = 2_048;
  const batchSize = options.batchSize ?? 500;
  const advanced = createWakeSignal();
  let events: RecordedEvent[] = [];
  let sizes: number[] = [];
  let bytes = 0;
  let head = 0; // index of the oldest kept event
  // Coverage: every event with start < position <= end is in events[head..].
  let start: Position | 'start' | undefined;
  let end: Position | 'start' = 'start';
  let attached = 0;
  let running: Promise<void> | undefined;
  let abort = new AbortController();

  function reset(): void {
    start = undefined;
    end = 'start';
    events = [];
    sizes = [];
    bytes = 0;
    head = 0;
  }

  function keep(page: ReadAllPage & { storedBytes?: number[] }): void {
    page.events.forEach((event, index) => {
      const size = (page.storedBytes?.[index] ?? DEFAULT_EVENT_BYTES / 4) * 4;
      events.push(event);
      sizes.push(size);
      bytes += size;
    });
    const first = head;
    while (head < events.length && (events.length - head > maxEvents || bytes > maxBytes)) {
      bytes -= sizes[head]!;
      head += 1;
    }
    if (head > first) start = events[head - 1]!.position;
    if (head > 1_000 && head * 2 > events.length) {
      events = events.slice(head);
      sizes = sizes.slice(head);
      head = 0;
    }
    end = maxPosition(end, page.nextPosition);
  }

  async function follow(signal: AbortSignal): Promise<void> {
    let fastPolls = FAST_POLL_DELAYS_MS.length;
    while (!signal.aborted && start !== undefined) {
      const seenVersion = options.wake.version;
      let page: ReadAllPage & { heldBack?: boolean; storedBytes?: number[] };
      do {
        const before = end;
        page = await options.read(end, batchSize);
        if (signal.aborted) return;
        keep(page);
        if (page.events.length > 0 || end !== before) advanced.wake();
      } while (!page.isEnd);
      // Quick re-reads after a wake-up, only while an open transaction holds the log back.
      if (page.heldBack === false) fastPolls = FAST_POLL_DELAYS_MS.length;
      const delayMs =
        fastPolls < FAST_POLL_DELAYS_MS.length ? FAST_POLL_DELAYS_MS[fastPolls]! : options.pollIntervalMs;
      fastPolls = Math.min(fastPolls + 1, FAST_POLL_DELAYS_MS.length);
      const reason = await options.wake.wait(delayMs, signal, seenVersion);
      if (reason === 'woken') fastPolls = 0;
    }
  }

  function begin(from: Position | 'start'): void {
    start = from;
    end = from;
    abort = new AbortController();
    const signal = abort.signal;
    running = follow(signal)
      .catch(() => {
        // A failed read: drop coverage, so subscriptions read the store themselves (and report
        // errors as they did before the tail). The next live page restarts the tail.
        if (!signal.aborted) reset();
      })
      .finally(() => {
        running = undefined;
        advanced.wake();
      });
  }

  function stop(): void {
    abort.abort();
    reset();
  }

  return {
    advanced,

    page(from, limit, filter) {
      if (attached === 0) return undefined;
      if (start === undefined) {
        if (running !== undefined) return undefined; // a failed tail still winding down
        begin(from);
      }
      if (comparePositions(from, start!) < 0) return undefined;
      // First kept event after `from` (binary search: positions are strictly increasing).
      let low = head;
      let high = events.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        if (comparePositions(events[middle]!.position, from) <= 0) low = middle + 1;
        else high = middle;
      }
      const selected: RecordedEvent[] = [];
      for (let index = low; index < events.length; index += 1) {
        const event = events[index]!;
        if (!matchesFilter(filter, event.stream, event.type)) continue;
        selected.push(event);
        if (selected.length === limit && index < events.length - 1) {
          return { events: selected, nextPosition: event.position, isEnd: false };
        }
      }
      return { events: selected, nextPosition: maxPosition(from, end), isEnd: true };
    },

    attach() {
      attached += 1;
      let detached = false;
      return () => {
        if (detached) return;
        detached = true;
        attached -= 1;
        if (attached === 0) stop();
      };
    },

    close() {
      attached = 0;
      stop();
      advanced.wake();
    },
  };
}
