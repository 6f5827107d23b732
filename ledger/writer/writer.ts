import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { ownTables } from '../../src/db/own-tables.js';
import { LIMITS as STORE_LIMITS, type EventStore } from '../../src/eventstore/index.js';
import {
  LedgerInvariantError,
  LIMITS,
  type Account,
  type AcceptedTransfer,
  type Transfer,
  type TransferResultEntry,
} from '../rules/index.js';
import {
  assertTransferShape,
  callerOutcomes,
  estimatedTransferBytes,
  planBatch,
  type BatchPlan,
  type TransferOutcome,
} from './batch.js';
import { decideExpiries, decideTransfers } from './decide.js';
import { LedgerOverloadedError, LedgerSubmissionTooLargeError, LedgerUnavailableError } from './errors.js';
import { DEFAULT_LEDGER_STREAM } from './events.js';
import { DEFAULT_FILTER_BITS } from './id-filter.js';
import { createLease, type Lease } from './lease.js';
import { isDeltaEmpty } from './memory.js';
import { createSnapshotFlight } from './snapshot-flight.js';
import { readAccount } from './snapshot-repository.js';
import { createSubmissionQueue, type Submission } from './submission-queue.js';
import type { LedgerTables } from './tables.js';
import { createWaker } from './waker.js';
import {
  appendEvent,
  applyTail,
  loadReferences,
  restore,
  snapshotStillOurs,
  type WriterIo,
} from './writer-io.js';
import { commitAppended, dueHoldReferences, emptyWriterState, type SnapshotLimits } from './writer-state.js';

/**
 * The batched ledger writer (docs/ledger.md): the loop that takes submissions, decides them
 * against memory and appends one event per batch, and its public face. Its parts live apart:
 * the in-memory state and its pure transitions (writer-state.ts), the decisions (decide.ts,
 * batch.ts, over ledger/rules), the I/O (writer-io.ts: restore, lookups, append, snapshot), the
 * queue (submission-queue.ts) and the lease (lease.ts). What stays here is control: when to
 * restore, catch up, decide, append, snapshot and expire holds, and whom to answer.
 */

export interface LedgerAccountView extends Account {
  /** credits_posted − debits_posted − debits_pending (what a credit-normal account may spend). */
  readonly availableMinor: bigint;
}

export interface LedgerHead {
  readonly stream: string;
  /** Revision of the last event folded in; -1 for an empty stream. */
  readonly revision: bigint;
  readonly hash: string;
  readonly transferCount: bigint;
  readonly snapshotRevision: bigint | null;
}

export interface LedgerMemoryStats {
  readonly accounts: number;
  readonly transfers: number;
  readonly holds: number;
  readonly openHolds: number;
  readonly queuedTransfers: number;
  readonly dirtyEntries: number;
}

/** `DB`: the tables of the handle given; it must hold the writer's own (`LedgerTables`). */
export interface LedgerWriterOptions<DB extends LedgerTables = LedgerTables> {
  store: EventStore;
  db: Kysely<DB>;
  /** For the lease's dedicated connection; null runs without a lease (tests of the append race). */
  leaseConnectionString: string | null;
  stream?: string;
  /** Transfers per batch event; at most 8,190 (default 8,190; the event's byte limit cuts first). */
  maxBatchTransfers?: number;
  /** How long a batch that is not full waits for more submissions (default 0: group commit). */
  batchWaitMs?: number;
  /** Events between two snapshots (default 1,000). */
  snapshotEveryEvents?: number;
  /** Transfers between two snapshots, whichever comes first (default 20,000): bounds memory and snapshot size. */
  snapshotEveryTransfers?: number;
  /** Transfers waiting in the queue before submit() sheds load (default 100,000). */
  maxQueuedTransfers?: number;
  /** How long a submission waits for the writer to become available (default 10 s). */
  unavailableTimeoutMs?: number;
  /** Bits of the accepted-id Bloom filter (default 8 MiB of bits); null turns it off (always look up). */
  idFilterBits?: number | null;
  /** Ids read into the filter at restore before giving up on it (default 5,000,000). */
  idFilterMaxIds?: number;
  /** Milliseconds since the epoch; the ledger's only clock (tests move it). */
  clock?: () => number;
  logger?: Logger;
}

export interface LedgerWriter {
  /** Decides and durably appends the transfers; resolves with one outcome per transfer. */
  submit(transfers: readonly Transfer[]): Promise<TransferOutcome[]>;
  /** Balances from the writer's state (memory, else its snapshot): never from a projection. */
  account(id: string): Promise<LedgerAccountView | null>;
  /** Voids every hold due now with `hold_expiry` transfers appended as ledger events. */
  expireHolds(): Promise<{ expired: number }>;
  /** Takes the lease and restores state (snapshot + tail); submit() does it on first use. */
  start(): Promise<void>;
  /** Writes a snapshot of everything committed so far and waits for it. */
  snapshotNow(): Promise<void>;
  head(): LedgerHead;
  memory(): LedgerMemoryStats;
  /** Ready to write (lease held, state restored) and not crashed. */
  ready(): boolean;
  /** The broken invariant that stopped the writer, if any (readiness reports it). */
  failure(): Error | null;
  /** Drains the queue, writes a final snapshot, releases the lease. */
  close(): Promise<void>;
}

/**
 * What a lookup learnt: keys (`a:`, `t:`, `h:` + id) the snapshot does not hold. Valid while the
 * epoch is unchanged: an entry absent from the snapshot is then either absent for good or in
 * memory, since only this writer writes the snapshot, from memory, and evicts only at an epoch bump.
 */
interface Prefetched {
  readonly batch: Submission[];
  readonly epoch: number;
  readonly absent: Set<string>;
  readonly done: Promise<void>;
}

interface ExpiryWaiter {
  resolve: (result: { expired: number }) => void;
  reject: (error: unknown) => void;
}

/** Times a batch is decided again after losing the append race before its callers get an error. */
const MAX_RACE_RETRIES = 5;
/** Hold expiries per event (each ~0.4 KiB stored). */
const EXPIRY_BATCH = 400;
const MAX_EXPIRY_ROUNDS = 1_000;
/** What one event's data may take: the store's limit less room for metadata. */
const EVENT_BUDGET_BYTES = STORE_LIMITS.maxEventBytes - 1_024;

/** The options with their defaults and limits applied. */
function settingsOf(options: Omit<LedgerWriterOptions, 'db'>) {
  const maxBatchTransfers = Math.min(
    options.maxBatchTransfers ?? LIMITS.batchMaxEvents,
    LIMITS.batchMaxEvents,
  );
  const snapshotLimits: SnapshotLimits = {
    everyEvents: options.snapshotEveryEvents ?? 1_000,
    everyTransfers: options.snapshotEveryTransfers ?? 20_000,
  };
  if (maxBatchTransfers < 1 || snapshotLimits.everyEvents < 1)
    throw new RangeError('batch and snapshot sizes must be >= 1');
  return {
    stream: options.stream ?? DEFAULT_LEDGER_STREAM,
    maxBatchTransfers,
    batchWaitMs: options.batchWaitMs ?? 0,
    snapshotLimits,
    maxQueuedTransfers: options.maxQueuedTransfers ?? 100_000,
    unavailableTimeoutMs: options.unavailableTimeoutMs ?? 10_000,
    clock: options.clock ?? Date.now,
    idFilterBits: options.idFilterBits === undefined ? DEFAULT_FILTER_BITS : options.idFilterBits,
    idFilterMaxIds: options.idFilterMaxIds ?? 5_000_000,
  };
}

function accountView(account: Account): LedgerAccountView {
  return {
    ...account,
    availableMinor: account.creditsPosted - account.debitsPosted - account.debitsPending,
  };
}

export function createLedgerWriter<DB extends LedgerTables>(options: LedgerWriterOptions<DB>): LedgerWriter {
  const settings = settingsOf(options);
  const { stream, maxBatchTransfers, batchWaitMs, maxQueuedTransfers, unavailableTimeoutMs, clock } =
    settings;
  const { logger } = options;
  const io: WriterIo = {
    store: options.store,
    db: ownTables<LedgerTables, DB>(options.db),
    stream,
    idFilterBits: settings.idFilterBits,
    idFilterMaxIds: settings.idFilterMaxIds,
    logger,
  };
  const state = emptyWriterState();
  const queue = createSubmissionQueue();
  const expiryWaiters: ExpiryWaiter[] = [];
  // Lifecycle: ready once the lease is held and memory restored; a broken invariant stops it for good.
  let isReady = false;
  let needsRestore = true;
  let needsCatchUp = false;
  let crashed: Error | null = null;
  let closing = false;
  /** The next batch, taken while the previous append was in flight, with its lookups under way. */
  let prefetched: Prefetched | null = null;
  let loop: Promise<void> | null = null;
  const abort = new AbortController();
  const { kick, idle } = createWaker();
  const snapshots = createSnapshotFlight({
    io,
    state,
    limits: settings.snapshotLimits,
    kick,
    onConflict: () => void (needsRestore = true),
  });

  const lease: Lease | null =
    options.leaseConnectionString === null
      ? null
      : createLease({
          connectionString: options.leaseConnectionString,
          stream,
          onLost: () => {
            logger?.warn({ stream }, 'ledger writer lost its lease: restoring before writing again');
            isReady = false;
            needsRestore = true;
            kick();
          },
        });

  function startLoop(): void {
    loop ??= runLoop().catch((error: unknown) => crash(error));
  }

  function crash(error: unknown): void {
    crashed = error instanceof Error ? error : new Error(String(error));
    isReady = false;
    logger?.fatal({ err: crashed, stream }, 'ledger writer stopped on a broken invariant');
    failQueue(crashed);
  }

  function failQueue(error: unknown): void {
    const waiting = prefetched;
    prefetched = null;
    for (const submission of waiting?.batch ?? []) submission.reject(error);
    while (queue.size() > 0) queue.take().reject(error);
    for (const waiter of expiryWaiters.splice(0)) waiter.reject(error);
  }

  async function runLoop(): Promise<void> {
    while (!(closing && queue.size() === 0 && prefetched === null && expiryWaiters.length === 0)) {
      snapshots.settle();
      if (needsRestore || !isReady) {
        if (!(await becomeReady())) continue;
      }
      if (needsCatchUp) {
        await guarded(
          () => catchUp(),
          () => expireWaiting(),
        );
        continue;
      }
      if (expiryWaiters.length > 0) {
        await runExpiryRound();
        continue;
      }
      const next = prefetched;
      prefetched = null;
      if (next === null && queue.size() === 0) {
        if (closing) break;
        await idle(null);
        continue;
      }
      if (next === null) await waitForFullerBatch();
      await processBatch(next ?? prefetch(takeBatch()));
      snapshots.start(false);
    }
  }

  /** Runs `work`; an operating error (the database is down) fails `onError` and schedules a catch-up. */
  async function guarded(work: () => Promise<void>, onError: (error: unknown) => void): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (error instanceof LedgerInvariantError) throw error;
      logger?.error({ err: error, stream }, 'ledger writer: operating error, will catch up from the stream');
      needsCatchUp = true;
      onError(error);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async function becomeReady(): Promise<boolean> {
    if (closing && lease !== null && !lease.held()) {
      failQueue(new LedgerUnavailableError('the ledger writer is closing'));
      return false;
    }
    const sweeper = setInterval(() => expireWaiting(), Math.min(unavailableTimeoutMs, 1_000));
    try {
      if (lease !== null && !lease.held()) await lease.acquire(abort.signal);
      await restoreMemory();
      isReady = true;
      needsRestore = false;
      return true;
    } catch (error) {
      if (error instanceof LedgerInvariantError) throw error;
      logger?.error({ err: error, stream }, 'ledger writer could not restore; retrying');
      expireWaiting();
      await new Promise((resolve) => setTimeout(resolve, 500));
      return false;
    } finally {
      clearInterval(sweeper);
    }
  }

  /** Submissions that waited too long for an unavailable writer get an error they can retry. */
  function expireWaiting(): void {
    const now = Date.now();
    while (queue.size() > 0 && now - (queue.oldest()?.enqueuedAtMs ?? now) > unavailableTimeoutMs) {
      queue
        .take()
        .reject(new LedgerUnavailableError('the ledger writer is not available (lease or database)'));
    }
  }

  async function restoreMemory(): Promise<void> {
    // A lookup still running must not land in the restored memory; a snapshot under way is stale.
    await prefetched?.done.catch(() => undefined);
    snapshots.forget();
    await restore(io, state);
    needsCatchUp = false;
  }

  /**
   * Catch-up after losing the append race or an append with an unknown outcome. If another
   * writer moved the snapshot header, what this writer evicted may be stale: restore from
   * scratch. Otherwise the tail after our revision is all we missed.
   */
  async function catchUp(): Promise<void> {
    // A lookup still running must not land in the middle of the catch-up.
    await prefetched?.done.catch(() => undefined);
    if (!(await snapshotStillOurs(io, state, snapshots.current()?.cut.header.revision))) {
      await restoreMemory();
      return;
    }
    await applyTail(io, state);
    needsCatchUp = false;
  }

  /** Starts the lookups of a batch (while the previous append is in flight). */
  function prefetch(batch: Submission[]): Prefetched {
    const absent = new Set<string>();
    const transfers = batch.flatMap((submission) => submission.transfers);
    const done = loadReferences(
      io,
      state,
      transfers,
      transfers.map((transfer) => transfer.id),
      new Set(),
      absent,
    );
    done.catch(() => undefined); // awaited (and reported) by processBatch
    return { batch, epoch: state.epoch, absent, done };
  }

  function takeBatch(): Submission[] {
    return queue.takeBatch(maxBatchTransfers, EVENT_BUDGET_BYTES);
  }

  async function waitForFullerBatch(): Promise<void> {
    if (batchWaitMs <= 0) return;
    const oldest = queue.oldest();
    if (oldest === undefined) return;
    for (;;) {
      const remainingMs = oldest.enqueuedAtMs + batchWaitMs - Date.now();
      if (remainingMs <= 0 || queue.transfers() >= maxBatchTransfers || closing) return;
      await idle(remainingMs);
    }
  }

  async function processBatch(fetched: Prefetched): Promise<void> {
    const { batch } = fetched;
    const fail = (error: unknown) => {
      for (const submission of batch) submission.reject(error);
    };
    await guarded(
      () => decideAndAppend(batch, fetched),
      (error) =>
        fail(
          new LedgerUnavailableError('the ledger could not append; retry the same transfers', true, {
            cause: error,
          }),
        ),
    );
  }

  async function decideAndAppend(batch: Submission[], fetched: Prefetched | null = null): Promise<void> {
    const planned = planBatch(batch);
    for (let attempt = 0; attempt <= MAX_RACE_RETRIES; attempt += 1) {
      let absent = new Set<string>();
      if (fetched !== null && attempt === 0) {
        await fetched.done;
        if (fetched.epoch === state.epoch) absent = fetched.absent;
      }
      // Loads whatever is still missing (nothing, when the prefetch is fresh): decide right after.
      await loadReferences(
        io,
        state,
        planned.transfers,
        planned.transfers.map((transfer) => transfer.id),
        new Set(),
        absent,
      );
      const decision = decideTransfers(state, planned.transfers, clock(), EVENT_BUDGET_BYTES);
      const { sealed } = decision;
      if (sealed !== null) {
        if (!decision.fits) return splitOversized(batch);
        // Pipelining: the next batch's lookups run while this append is in flight.
        if (prefetched === null && queue.size() > 0 && !closing) prefetched = prefetch(takeBatch());
        const appended = await appendEvent(io, state, sealed.data);
        if (appended === null) {
          await catchUp();
          continue;
        }
        commitAppended(state, sealed.changes, sealed.hash, sealed.body, appended);
      }
      settle(batch, planned, decision.outcome.transferResults, decision.body.transfersAccepted);
      return;
    }
    for (const submission of batch) {
      submission.reject(new LedgerUnavailableError('the ledger stream kept moving under this writer; retry'));
    }
  }

  async function splitOversized(batch: Submission[]): Promise<void> {
    if (batch.length === 1) {
      batch[0]!.reject(
        new LedgerSubmissionTooLargeError(
          'these transfers do not fit in one ledger event; submit fewer at once',
        ),
      );
      return;
    }
    const half = Math.ceil(batch.length / 2);
    await decideAndAppend(batch.slice(0, half));
    await decideAndAppend(batch.slice(half));
  }

  /** Answers each caller with its own outcomes, once the batch is durable. */
  function settle(
    batch: readonly Submission[],
    planned: BatchPlan,
    results: readonly TransferResultEntry[],
    accepted: readonly AcceptedTransfer[],
  ): void {
    const timestamps = new Map(accepted.map((transfer) => [transfer.id, transfer.timestamp] as const));
    batch.forEach((submission, index) => {
      const part = planned.parts[index]!;
      submission.resolve(callerOutcomes(results, part.offset, part.decided, part.openResults, timestamps));
    });
  }

  async function runExpiryRound(): Promise<void> {
    const waiters = expiryWaiters.splice(0);
    let expired = 0;
    await guarded(
      async () => {
        for (let round = 0; round < MAX_EXPIRY_ROUNDS; round += 1) {
          const appended = await expireOnce();
          if (appended === null) continue;
          expired += appended.count;
          if (appended.count === 0 || appended.remaining === 0) break;
        }
        for (const waiter of waiters) waiter.resolve({ expired });
      },
      (error) => {
        for (const waiter of waiters) waiter.reject(error);
      },
    );
  }

  /** One expiry event: null when it lost the append race (caught up; try again). */
  async function expireOnce(): Promise<{ count: number; remaining: number } | null> {
    const nowMs = clock();
    await loadReferences(io, state, dueHoldReferences(state, BigInt(nowMs) * 1_000_000n), []);
    const decided = decideExpiries(state, nowMs, EXPIRY_BATCH);
    if (decided === null) return { count: 0, remaining: 0 };
    const { sealed } = decided;
    const appended = await appendEvent(io, state, sealed.data);
    if (appended === null) {
      await catchUp();
      return null;
    }
    commitAppended(state, sealed.changes, sealed.hash, sealed.body, appended);
    snapshots.start(false);
    return { count: sealed.body.transfersAccepted.length, remaining: decided.remaining };
  }

  async function waitUntilReady(): Promise<void> {
    startLoop();
    const deadline = Date.now() + unavailableTimeoutMs;
    while (!isReady) {
      if (crashed !== null) throw crashed;
      if (Date.now() > deadline) throw new LedgerUnavailableError('the ledger writer is not available');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  return {
    submit(transfers) {
      if (crashed !== null) return Promise.reject(crashed);
      if (closing) return Promise.reject(new LedgerUnavailableError('the ledger writer is closing'));
      if (transfers.length === 0) return Promise.resolve([]);
      if (transfers.length > maxBatchTransfers) {
        return Promise.reject(
          new LedgerSubmissionTooLargeError(`at most ${maxBatchTransfers} transfers per submit`),
        );
      }
      transfers.forEach(assertTransferShape);
      if (queue.transfers() + transfers.length > maxQueuedTransfers) {
        return Promise.reject(new LedgerOverloadedError('the ledger queue is full; retry shortly'));
      }
      const copy = [...transfers];
      const estimatedBytes = copy.reduce((sum, transfer) => sum + estimatedTransferBytes(transfer), 0);
      return new Promise<TransferOutcome[]>((resolve, reject) => {
        queue.push({ transfers: copy, estimatedBytes, enqueuedAtMs: Date.now(), resolve, reject });
        startLoop();
        if (batchWaitMs <= 0 || queue.transfers() >= maxBatchTransfers) kick();
        else if (queue.size() === 1) kick();
      });
    },

    async account(id) {
      await waitUntilReady();
      const inMemory = state.ledger.accounts.get(id);
      if (inMemory !== undefined) return accountView(inMemory);
      // Not in memory means unchanged since the last snapshot: its row is current.
      const stored = await readAccount(io.db, stream, id);
      return stored === null ? null : accountView(stored);
    },

    expireHolds() {
      if (crashed !== null) return Promise.reject(crashed);
      return new Promise((resolve, reject) => {
        expiryWaiters.push({ resolve, reject });
        startLoop();
        kick();
      });
    },

    start: waitUntilReady,

    async snapshotNow() {
      await waitUntilReady();
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const flight = snapshots.start(true);
        if (flight === null) return;
        await flight.done;
        kick();
        if (flight.status === 'written' && isDeltaEmpty(state.delta)) return;
      }
    },

    head: () => ({
      stream,
      revision: state.revision,
      hash: state.lastHash,
      transferCount: state.transferCount,
      snapshotRevision: state.snapshotRevision,
    }),

    memory: () => ({
      accounts: state.ledger.accounts.size,
      transfers: state.ledger.transfers.size,
      holds: state.ledger.holds.size,
      openHolds: state.ledger.openHoldIds.size,
      queuedTransfers: queue.transfers(),
      dirtyEntries: state.delta.accounts.size + state.delta.transfers.size + state.delta.holds.size,
    }),

    ready: () => isReady && crashed === null,
    failure: () => crashed,

    async close() {
      if (closing) return;
      closing = true;
      kick();
      if (loop !== null) {
        if (!isReady) abort.abort();
        await loop;
        if (isReady && crashed === null) {
          await snapshots.current()?.done;
          snapshots.settle();
          const flight = snapshots.start(true);
          await flight?.done;
        }
      }
      await lease?.release();
    },
  };
}
