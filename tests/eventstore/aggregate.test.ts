import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createAggregateCache,
  handleCommand,
  WrongExpectedVersion,
  type Decider,
  type EventStore,
} from '../../src/eventstore/index.js';
import { createPersonalDataVault } from '../../src/eventstore/personal-data.js';
import { createPostgresAdapter } from '../../src/eventstore/postgres/adapter.js';
import { createEventStore } from '../../src/eventstore/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

type Command = { type: 'Open' } | { type: 'Deposit'; amountMinor: number };
type Event =
  { type: 'Opened'; data: Record<string, never> } | { type: 'Deposited'; data: { amountMinor: number } };
type State = { open: boolean; balanceMinor: number };

const wallet: Decider<Command, Event, State> = {
  initialState: () => ({ open: false, balanceMinor: 0 }),
  evolve(state, event) {
    switch (event.type) {
      case 'Opened':
        return { ...state, open: true };
      case 'Deposited':
        return { ...state, balanceMinor: state.balanceMinor + event.data.amountMinor };
      default: {
        const exhaustive: never = event;
        return exhaustive;
      }
    }
  },
  decide(command, state) {
    switch (command.type) {
      case 'Open':
        return state.open ? [] : [{ type: 'Opened', data: {} }];
      case 'Deposit':
        if (!state.open) throw new Error('wallet is not open');
        return [{ type: 'Deposited', data: { amountMinor: command.amountMinor } }];
      default: {
        const exhaustive: never = command;
        return exhaustive;
      }
    }
  },
};

let database: TestDatabase;
let store: EventStore;
beforeAll(async () => {
  database = await createTestDatabase();
  store = createEventStore({
    adapter: createPostgresAdapter({ pool: database.pool, connectionString: database.url }),
    vault: createPersonalDataVault({ db: database.db, masterKey: randomBytes(32) }),
  });
});
afterAll(async () => {
  await store?.close();
  await database?.drop();
});

describe('handleCommand: read, decide, append with the expected revision', () => {
  it('appends what the decider decides and returns the new state and revision', async () => {
    const stream = `wallet-${randomUUID()}`;
    const opened = await handleCommand(store, stream, wallet, { type: 'Open' });
    expect(opened).toMatchObject({ revision: 0n, state: { open: true, balanceMinor: 0 } });
    const again = await handleCommand(store, stream, wallet, { type: 'Open' });
    expect(again).toMatchObject({ newEvents: [], revision: 0n });
    const deposited = await handleCommand(
      store,
      stream,
      wallet,
      { type: 'Deposit', amountMinor: 2500 },
      { metadata: { correlationId: 'c-9' } },
    );
    expect(deposited).toMatchObject({ revision: 1n, state: { balanceMinor: 2500 } });
    expect((await store.readStream(stream))[1]!.metadata.correlationId).toBe('c-9');
  });

  it('retries when a concurrent writer wins, so every command lands exactly once', async () => {
    const stream = `wallet-${randomUUID()}`;
    await handleCommand(store, stream, wallet, { type: 'Open' });
    await Promise.all(
      Array.from({ length: 4 }, () =>
        handleCommand(store, stream, wallet, { type: 'Deposit', amountMinor: 100 }, { maxAttempts: 10 }),
      ),
    );
    const events = await store.readStream(stream);
    expect(events.filter((event) => event.type === 'Deposited')).toHaveLength(4);
  });

  it('gives up after the bounded attempts with WrongExpectedVersion, and passes domain errors through', async () => {
    const stream = `wallet-${randomUUID()}`;
    await expect(handleCommand(store, stream, wallet, { type: 'Deposit', amountMinor: 1 })).rejects.toThrow(
      'wallet is not open',
    );
    await handleCommand(store, stream, wallet, { type: 'Open' });
    // A decider that lets another writer slip in before every append always loses the race.
    const racing: Decider<Command, Event, State> = {
      ...wallet,
      decide(command, state) {
        void store.append(stream, [{ type: 'Deposited', data: { amountMinor: 1 } }]);
        return wallet.decide(command, state);
      },
    };
    const slowAppend = store.append.bind(store);
    const delayed: EventStore = {
      ...store,
      append: async (...args) => (
        await new Promise((resolve) => setTimeout(resolve, 20)),
        slowAppend(...args)
      ),
    };
    await expect(
      handleCommand(delayed, stream, racing, { type: 'Deposit', amountMinor: 5 }, { maxAttempts: 2 }),
    ).rejects.toBeInstanceOf(WrongExpectedVersion);
  });

  it('with a cache of written states: no read for the next command, and a stream moved by another writer is decided again on a fresh read', async () => {
    const stream = `wallet-${randomUUID()}`;
    const cache = createAggregateCache<State>();
    const other = createAggregateCache<State>(); // another instance's memory
    await handleCommand(store, stream, wallet, { type: 'Open' }, { cache });
    const reads: string[] = [];
    const counting: EventStore = {
      ...store,
      readStream: (name, options) => (reads.push(name), store.readStream(name, options)),
    };
    const first = await handleCommand(
      counting,
      stream,
      wallet,
      { type: 'Deposit', amountMinor: 100 },
      { cache },
    );
    expect(first.state.balanceMinor).toBe(100);
    expect(reads).toHaveLength(0); // decided on the remembered state
    // Another instance deposits meanwhile: our remembered revision is now old.
    await handleCommand(store, stream, wallet, { type: 'Deposit', amountMinor: 50 }, { cache: other });
    const second = await handleCommand(
      counting,
      stream,
      wallet,
      { type: 'Deposit', amountMinor: 7 },
      { cache },
    );
    expect(second.state.balanceMinor).toBe(157); // nothing lost: the stale guess failed and was re-decided
    expect(reads.length).toBeGreaterThan(0);
    expect((await store.readStream(stream)).map((event) => event.type)).toEqual([
      'Opened',
      'Deposited',
      'Deposited',
      'Deposited',
    ]);
  });

  it('with a cache: a refusal on a remembered state is checked against a fresh read first', async () => {
    const stream = `wallet-${randomUUID()}`;
    const cache = createAggregateCache<State>();
    // This process remembers the wallet before it was opened (another instance opened it).
    cache.set(stream, wallet.initialState(), 0n);
    await handleCommand(store, stream, wallet, { type: 'Open' });
    const deposited = await handleCommand(
      store,
      stream,
      wallet,
      { type: 'Deposit', amountMinor: 30 },
      { cache },
    );
    expect(deposited.state).toEqual({ open: true, balanceMinor: 30 });
  });

  it('with a cache: entries expire', () => {
    let now = 0;
    const cache = createAggregateCache<State>({ ttlMs: 1_000, now: () => now });
    cache.set('s', { open: true, balanceMinor: 1 }, 3n);
    now = 999;
    expect(cache.get('s')?.revision).toBe(3n);
    now = 1_000;
    expect(cache.get('s')).toBeUndefined();
  });

  it('with a cache: an erasure of personal data in this process empties it', async () => {
    const cache = createAggregateCache<State>();
    cache.set('wallet-a', { open: true, balanceMinor: 5 }, 1n);
    expect(cache.get('wallet-a')).toBeDefined();
    await store.erasePersonalData(`person-${randomUUID()}`);
    expect(cache.get('wallet-a')).toBeUndefined();
  });
});
