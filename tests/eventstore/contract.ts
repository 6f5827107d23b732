import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  comparePositions,
  EventTooLarge,
  LIMITS,
  StreamNotFound,
  WrongExpectedVersion,
  type EventStore,
  type NewEvent,
  type Position,
  type RecordedEvent,
  type Subscription,
} from '../../src/eventstore/index.js';

/**
 * One contract, run against every adapter (docs/architecture.md, decision 1). A fixture gives a fresh store;
 * `holdAppend`, where the adapter has transactions, inserts events and keeps the transaction
 * open until `commit()` — the race of docs/architecture.md, decision 2.
 */
export interface ContractFixture {
  store: EventStore;
  holdAppend?(
    stream: string,
    events: { id: string; type: string; data: unknown }[],
  ): Promise<{ commit(): Promise<void> }>;
  close(): Promise<void>;
}

const stream = (prefix = 'contract') => `${prefix}-${randomUUID()}`;
const event = (type: string, data: unknown = {}, id?: string): NewEvent => ({
  type,
  data,
  ...(id === undefined ? {} : { id }),
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function eventually(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A subscription that records what it saw, filtered to the streams of one test. */
function record(store: EventStore, from: Position | 'start' | 'end', prefix: string) {
  const seen: RecordedEvent[] = [];
  const subscription: Subscription = store.subscribeToAll({
    from,
    filter: { streamPrefixes: [prefix] },
    batchSize: 7,
    onBatch: async (events) => void seen.push(...events),
  });
  return { seen, subscription };
}

export function describeEventStoreContract(
  name: string,
  createFixture: () => Promise<ContractFixture>,
): void {
  describe(`event store contract: ${name}`, () => {
    let fixture: ContractFixture;
    let store: EventStore;
    beforeAll(async () => {
      fixture = await createFixture();
      store = fixture.store;
    });
    afterAll(async () => fixture?.close());

    it('records the envelope: id, type, data, metadata, stream, 0-based revision, position, createdAt', async () => {
      const name = stream();
      const id = randomUUID();
      const metadata = {
        correlationId: 'c-1',
        causationId: 'k-1',
        actorId: 'u-1',
        actorRole: 'customer',
        ip: '127.0.0.1',
        userAgent: 'test',
      };
      const result = await store.append(name, [
        { id, type: 'OrderPlaced', data: { amountMinor: 1500 }, metadata },
      ]);
      expect(result.nextRevision).toBe(0n);
      const [recorded] = await store.readStream(name);
      expect(recorded).toMatchObject({
        id,
        type: 'OrderPlaced',
        data: { amountMinor: 1500 },
        stream: name,
        revision: 0n,
      });
      expect(recorded!.metadata).toEqual({ ...metadata, schemaVersion: 1 });
      expect(recorded!.position).toBe(result.position);
      expect(recorded!.createdAt).toBeInstanceOf(Date);
    });

    it('enforces no_stream, stream_exists, an exact revision and any', async () => {
      const name = stream();
      await expect(
        store.append(name, [event('A')], { expectedRevision: 'stream_exists' }),
      ).rejects.toMatchObject({
        name: 'WrongExpectedVersion',
        actual: 'no_stream',
      });
      await expect(store.append(name, [event('A')], { expectedRevision: 3n })).rejects.toBeInstanceOf(
        WrongExpectedVersion,
      );
      expect(
        (await store.append(name, [event('A'), event('B')], { expectedRevision: 'no_stream' })).nextRevision,
      ).toBe(1n);
      const noStream = store.append(name, [event('C')], { expectedRevision: 'no_stream' });
      await expect(noStream).rejects.toMatchObject({ stream: name, expected: 'no_stream', actual: 1n });
      await expect(store.append(name, [event('C')], { expectedRevision: 0n })).rejects.toMatchObject({
        expected: 0n,
        actual: 1n,
      });
      expect((await store.append(name, [event('C')], { expectedRevision: 1n })).nextRevision).toBe(2n);
      expect(
        (await store.append(name, [event('D')], { expectedRevision: 'stream_exists' })).nextRevision,
      ).toBe(3n);
      expect((await store.append(name, [event('E')], { expectedRevision: 'any' })).nextRevision).toBe(4n);
      expect((await store.readStream(name)).map((recorded) => recorded.type)).toEqual([
        'A',
        'B',
        'C',
        'D',
        'E',
      ]);
    });

    it('lets exactly one of N concurrent writers win each revision of one stream', async () => {
      const name = stream();
      await store.append(name, [event('Opened')], { expectedRevision: 'no_stream' });
      const writers = 8;
      const rounds = 5;
      const winners = new Map<bigint, number>();
      await Promise.all(
        Array.from({ length: writers }, async (_, writer) => {
          for (let round = 0; round < rounds; round += 1) {
            const [last] = await store.readStream(name, { direction: 'backwards', maxCount: 1 });
            try {
              const result = await store.append(name, [event('Bumped', { writer })], {
                expectedRevision: last!.revision,
              });
              winners.set(result.nextRevision, (winners.get(result.nextRevision) ?? 0) + 1);
            } catch (error) {
              if (!(error instanceof WrongExpectedVersion)) throw error;
            }
          }
        }),
      );
      const events = await store.readStream(name);
      expect(events.map((recorded) => recorded.revision)).toEqual(events.map((_, index) => BigInt(index)));
      expect([...winners.values()].every((count) => count === 1)).toBe(true);
      expect(winners.size).toBe(events.length - 1);
    });

    it('writes a multi-event append atomically: every event or none', async () => {
      const name = stream();
      const tooLarge = { blob: 'x'.repeat(LIMITS.maxEventBytes) };
      await expect(store.append(name, [event('A'), event('B', tooLarge)])).rejects.toBeInstanceOf(
        EventTooLarge,
      );
      await expect(store.readStream(name)).rejects.toBeInstanceOf(StreamNotFound);
      const many = Array.from({ length: 50 }, (_, index) => event('Item', { index }));
      const result = await store.append(name, many);
      expect(result.nextRevision).toBe(49n);
      expect(await store.readStream(name)).toHaveLength(50);
    });

    it('returns the first result to a retry with the same event ids and writes nothing twice', async () => {
      const name = stream();
      const events = [event('A', { n: 1 }, randomUUID()), event('B', { n: 2 }, randomUUID())];
      const first = await store.append(name, events, { expectedRevision: 'no_stream' });
      const retry = await store.append(name, events, { expectedRevision: 'no_stream' });
      expect(retry).toEqual(first);
      const concurrent = await Promise.all([store.append(name, events), store.append(name, events)]);
      expect(concurrent).toEqual([first, first]);
      expect(await store.readStream(name)).toHaveLength(2);
      const next = [event('C', {}, randomUUID())];
      const third = await store.append(name, next, { expectedRevision: 1n });
      expect(await store.append(name, next, { expectedRevision: 1n })).toEqual(third);
      expect((await store.readStream(name)).map((recorded) => recorded.type)).toEqual(['A', 'B', 'C']);
    });

    it('keeps order within a stream, forwards and backwards, from a revision, bounded', async () => {
      const name = stream();
      for (let batch = 0; batch < 3; batch += 1) {
        await store.append(
          name,
          Array.from({ length: 4 }, (_, index) => event('N', { n: batch * 4 + index })),
        );
      }
      const forwards = await store.readStream(name);
      expect(forwards.map((recorded) => (recorded.data as { n: number }).n)).toEqual([...Array(12).keys()]);
      expect(forwards.map((recorded) => recorded.revision)).toEqual([...Array(12).keys()].map(BigInt));
      const positions = forwards.map((recorded) => recorded.position);
      expect([...positions].sort(comparePositions)).toEqual(positions);
      const backwards = await store.readStream(name, {
        direction: 'backwards',
        fromRevision: 9n,
        maxCount: 3,
      });
      expect(backwards.map((recorded) => recorded.revision)).toEqual([9n, 8n, 7n]);
      const page = await store.readStream(name, { fromRevision: 10n, maxCount: 5 });
      expect(page.map((recorded) => recorded.revision)).toEqual([10n, 11n]);
      await expect(store.readStream(name, { maxCount: LIMITS.maxReadCount + 1 })).rejects.toBeInstanceOf(
        RangeError,
      );
      await expect(store.readStream(stream('missing'))).rejects.toBeInstanceOf(StreamNotFound);
    });

    it('pages readAll in order, each event once, with bounded pages', async () => {
      const prefix = `paging${randomUUID().slice(0, 8)}`;
      const written: string[] = [];
      for (let index = 0; index < 5; index += 1) {
        const events = Array.from({ length: 5 }, (_, n) => event('Paged', { index, n }, randomUUID()));
        written.push(...events.map((item) => item.id!));
        await store.append(`${prefix}-${index}`, events);
      }
      // readAll returns what is below the snapshot's xmin: wait until no older transaction in
      // the cluster (another suite's CREATE DATABASE, say) holds the horizon back.
      await eventually(
        async () =>
          (await store.readAll('start', { limit: 1000, filter: { streamPrefixes: [prefix] } })).events
            .length === 25,
      );
      const read: RecordedEvent[] = [];
      let from: Position | 'start' = 'start';
      for (let pages = 0; pages < 100; pages += 1) {
        const page = await store.readAll(from, { limit: 7, filter: { streamPrefixes: [prefix] } });
        expect(page.events.length).toBeLessThanOrEqual(7);
        read.push(...page.events);
        from = page.nextPosition;
        if (page.isEnd) break;
      }
      expect(read.map((recorded) => recorded.id)).toEqual(written);
      const byType = await store.readAll('start', {
        limit: 1000,
        filter: { eventTypes: ['Paged'], streamPrefixes: [prefix] },
      });
      expect(byType.events).toHaveLength(25);
      await expect(store.readAll('start', { limit: LIMITS.maxReadCount + 1 })).rejects.toBeInstanceOf(
        RangeError,
      );
    });

    it('never lets a subscriber skip an event whose transaction commits after a later one (the race)', async () => {
      const prefix = `race${randomUUID().slice(0, 8)}`;
      const { seen, subscription } = record(store, 'start', prefix);
      await subscription.caughtUp;
      if (fixture.holdAppend !== undefined) {
        const first = { id: randomUUID(), type: 'First', data: {} };
        const held = await fixture.holdAppend(`${prefix}-slow`, [first]);
        const second = await store.append(`${prefix}-fast`, [event('Second')]);
        // The second event is committed, yet must wait behind the open transaction.
        await new Promise((resolve) => setTimeout(resolve, 150));
        expect(seen.map((recorded) => recorded.type)).toEqual([]);
        await held.commit();
        await waitFor(() => seen.length === 2, 'both events');
        expect(seen.map((recorded) => recorded.type)).toEqual(['First', 'Second']);
        expect(comparePositions(seen[0]!.position, second.position)).toBeLessThan(0);
      }
      // And under many concurrent writers, every event arrives once, in position order.
      const ids = new Set<string>();
      await Promise.all(
        Array.from({ length: 16 }, async (_, writer) => {
          for (let round = 0; round < 10; round += 1) {
            const item = event('Concurrent', { writer, round }, randomUUID());
            ids.add(item.id!);
            await store.append(`${prefix}-w${writer}`, [item]);
          }
        }),
      );
      const before = fixture.holdAppend === undefined ? 0 : 2;
      await waitFor(() => seen.length === before + ids.size, 'every concurrent event');
      const concurrent = seen.slice(before);
      expect(new Set(concurrent.map((recorded) => recorded.id))).toEqual(ids);
      const positions = seen.map((recorded) => recorded.position);
      expect([...positions].sort(comparePositions)).toEqual(positions);
      await subscription.stop();
    });

    it('restarts a stopped subscription from its checkpoint and sees every event exactly once', async () => {
      const prefix = `restart${randomUUID().slice(0, 8)}`;
      const all: string[] = [];
      const append = async (count: number) => {
        for (let index = 0; index < count; index += 1) {
          const item = event('Tick', { index }, randomUUID());
          all.push(item.id!);
          await store.append(`${prefix}-${index % 3}`, [item]);
        }
      };
      await append(10);
      const handled: string[] = [];
      let checkpoint: Position | 'start' = 'start';
      const firstRun = store.subscribeToAll({
        from: 'start',
        filter: { streamPrefixes: [prefix] },
        batchSize: 3,
        onBatch: async (events, context) => {
          handled.push(...events.map((recorded) => recorded.id));
          checkpoint = context.position;
        },
      });
      await firstRun.caughtUp;
      await append(5);
      await waitFor(() => handled.length === 15, 'the first run');
      await firstRun.stop();
      await append(7);
      const secondRun = store.subscribeToAll({
        from: checkpoint,
        filter: { streamPrefixes: [prefix] },
        onEvent: (recorded) => void handled.push(recorded.id),
      });
      await secondRun.caughtUp;
      await append(3);
      await waitFor(() => handled.length === all.length, 'the second run');
      await secondRun.stop();
      expect(handled).toEqual(all);
    });

    it('starts a subscription from the end with only newer events', async () => {
      const prefix = `end${randomUUID().slice(0, 8)}`;
      await store.append(`${prefix}-a`, [event('Old')]);
      const { seen, subscription } = record(store, 'end', prefix);
      await subscription.caughtUp;
      await store.append(`${prefix}-a`, [event('New')]);
      await waitFor(() => seen.length === 1, 'the new event');
      expect(seen[0]!.type).toBe('New');
      await subscription.stop();
    });

    it('rejects an oversize event with a clear error naming the limit, and writes nothing', async () => {
      const name = stream();
      const error = await store
        .append(name, [event('Big', { blob: 'é'.repeat(LIMITS.maxEventBytes / 2) })])
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(EventTooLarge);
      expect((error as EventTooLarge).limitBytes).toBe(LIMITS.maxEventBytes);
      expect((error as Error).message).toMatch(/limit is 262144 bytes/);
      await expect(store.readStream(name)).rejects.toBeInstanceOf(StreamNotFound);
    });

    it('stops a subscription whose handler throws and reports the error', async () => {
      const prefix = `throw${randomUUID().slice(0, 8)}`;
      await store.append(`${prefix}-a`, [event('Boom')]);
      let reported: unknown;
      const subscription = store.subscribeToAll({
        from: 'start',
        filter: { streamPrefixes: [prefix] },
        onEvent: () => {
          throw new Error('handler failed');
        },
        onError: (error) => (reported = error),
      });
      await subscription.stopped;
      expect((reported as Error).message).toBe('handler failed');
    });
  });
}
