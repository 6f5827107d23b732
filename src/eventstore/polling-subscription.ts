import type { RawSubscribeOptions } from './adapter.js';
import type { Position, ReadAllPage, StartFrom, Subscription } from './types.js';
import { sleep, type WakeSignal } from './wake.js';

export interface PollingSource {
  /** `live` is true once the subscription has caught up (a shared live tail may then serve it). */
  readAll(
    from: Position | 'start',
    limit: number,
    filter: RawSubscribeOptions['filter'],
    live: boolean,
  ): Promise<ReadAllPage>;
  /** Turns 'end' into the current head position. */
  resolveStart(from: StartFrom): Promise<Position | 'start'>;
  signal: WakeSignal;
  /** The polling fallback when no wake-up arrives. */
  pollIntervalMs: number;
  /** Called once when the subscription ends. */
  onStop?(): void;
}

/** Read failures in a row before the subscription gives up and reports the error. */
const MAX_READ_FAILURES = 8;

/**
 * Catch up by pages, signal caught-up, then follow live: a wake-up (this process's appends,
 * LISTEN/NOTIFY from others) or the polling interval triggers the next read. The handler is
 * awaited before the next page (back-pressure); a throwing handler stops the subscription.
 */
export function createPollingSubscription(source: PollingSource, options: RawSubscribeOptions): Subscription {
  const abort = new AbortController();
  let position: Position | 'start' = 'start';
  let resolveCaughtUp!: () => void;
  const caughtUp = new Promise<void>((resolve) => (resolveCaughtUp = resolve));

  let live = false;
  const readWithRetry = () => readWithRetryFrom(position);

  async function readWithRetryFrom(from: Position | 'start'): Promise<ReadAllPage | undefined> {
    for (let failures = 0; ; failures += 1) {
      try {
        return await source.readAll(from, options.batchSize, options.filter, live);
      } catch (error) {
        if (abort.signal.aborted) return undefined;
        if (failures + 1 >= MAX_READ_FAILURES) throw error;
        await sleep(Math.min(100 * 2 ** failures, 5_000), abort.signal);
      }
    }
  }

  async function run(): Promise<void> {
    position = await source.resolveStart(options.from);
    // While catching up, the next page is read while the handler works on this one (one ahead, bounded).
    let prefetched: Promise<ReadAllPage | undefined> | undefined;
    while (!abort.signal.aborted) {
      // Wake-ups during the read and the handler count: the wait below then returns at once.
      const seenVersion = source.signal.version;
      const page = await (prefetched ?? readWithRetry());
      prefetched = undefined;
      if (page === undefined) return;
      if (!page.isEnd) {
        prefetched = readWithRetryFrom(page.nextPosition);
        prefetched.catch(() => undefined);
      }
      if (page.events.length > 0) {
        await options.onBatch(page.events, { live, position: page.nextPosition });
      }
      position = page.nextPosition;
      if (!page.isEnd) continue;
      if (!live) {
        live = true;
        await options.onCaughtUp(position);
        resolveCaughtUp();
        // The first live read at once: it may start the shared tail, whose reads then wake us.
        continue;
      }
      // The source's signal says when there is more to read (the shared live tail re-reads
      // quickly itself while an open transaction holds events back); polling is the fallback.
      await source.signal.wait(source.pollIntervalMs, abort.signal, seenVersion);
    }
  }

  const stopped = run()
    .then(
      () => undefined,
      (error: unknown) => {
        if (!abort.signal.aborted) options.onError(error);
        abort.abort();
      },
    )
    .finally(() => source.onStop?.());
  return {
    caughtUp,
    stopped,
    position: () => position,
    async stop() {
      abort.abort();
      await stopped;
    },
  };
}
