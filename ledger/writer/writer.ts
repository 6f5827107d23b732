import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { ownTables } from '../../src/db/own-tables.js';
import {
  LIMITS as STORE_LIMITS,
  StreamNotFound,
  type EventStore,
  type RecordedEvent,
} from '../../src/eventstore/index.js';
import {
  assertInvariant,
  batchBodyBytes,
  chainHash,
  commitChanges,
  decideBatch,
  emptyLedgerState,
  evolve,
  expirePendingTransfers,
  GENESIS_HASH,
  LedgerInvariantError,
  LIMITS,
  missingReferences,
  type Account,
  type AcceptedTransfer,
  type LedgerBatchBody,
  type LedgerChanges,
  type LedgerState,
  type Transfer,
} from '../rules/index.js';
import {
  accountsToOpen,
  assertTransferShape,
  callerOutcomes,
  estimatedTransferBytes,
  splitOpenChain,
  type TransferOutcome,
} from './batch.js';
import { LedgerOverloadedError, LedgerSubmissionTooLargeError, LedgerUnavailableError } from './errors.js';
import {
  decodeLedgerEvent,
  DEFAULT_LEDGER_STREAM,
  LEDGER_EVENT_TYPE,
  sealEncoded,
  type LedgerEventData,
} from './events.js';
import { createIdFilter, DEFAULT_FILTER_BITS, type IdFilter } from './id-filter.js';
import { createLease, type Lease } from './lease.js';
import {
  absorb,
  emptyDelta,
  emptyLoaded,
  evictAfterSnapshot,
  isDeltaEmpty,
  mergeBack,
  recordChanges,
  recordFolded,
  snapshotWrite,
  type Delta,
} from './memory.js';
import * as snapshots from './snapshot-repository.js';
import type { LedgerTables } from './tables.js';

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

interface Submission {
  readonly transfers: readonly Transfer[];
  readonly estimatedBytes: number;
  readonly enqueuedAtMs: number;
  readonly resolve: (outcomes: TransferOutcome[]) => void;
  readonly reject: (error: unknown) => void;
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

interface SnapshotInFlight {
  readonly delta: Delta;
  readonly revision: bigint;
  status: 'writing' | 'written' | 'failed' | 'conflict';
  readonly done: Promise<void>;
}

/** Events read per page when catching up (each holds up to 256 KiB). */
const TAIL_PAGE_EVENTS = 64;
/** Times a batch is decided again after losing the append race before its callers get an error. */
const MAX_RACE_RETRIES = 5;
/** Hold expiries per event (each ~0.4 KiB stored). */
const EXPIRY_BATCH = 400;
const MAX_EXPIRY_ROUNDS = 1_000;
/** What one event's data may take: the store's limit less room for metadata. */
const EVENT_BUDGET_BYTES = STORE_LIMITS.maxEventBytes - 1_024;

export function createLedgerWriter<DB extends LedgerTables>(options: LedgerWriterOptions<DB>): LedgerWriter {
  const stream = options.stream ?? DEFAULT_LEDGER_STREAM;
  const { store, logger } = options;
  const db = ownTables<LedgerTables, DB>(options.db);
  const maxBatchTransfers = Math.min(
    options.maxBatchTransfers ?? LIMITS.batchMaxEvents,
    LIMITS.batchMaxEvents,
  );
  const batchWaitMs = options.batchWaitMs ?? 0;
  const snapshotEveryEvents = options.snapshotEveryEvents ?? 1_000;
  const snapshotEveryTransfers = options.snapshotEveryTransfers ?? 20_000;
  const maxQueuedTransfers = options.maxQueuedTransfers ?? 100_000;
  const unavailableTimeoutMs = options.unavailableTimeoutMs ?? 10_000;
  const clock = options.clock ?? Date.now;
  const idFilterBits = options.idFilterBits === undefined ? DEFAULT_FILTER_BITS : options.idFilterBits;
  const idFilterMaxIds = options.idFilterMaxIds ?? 5_000_000;
  if (maxBatchTransfers < 1 || snapshotEveryEvents < 1)
    throw new RangeError('batch and snapshot sizes must be >= 1');

  let state: LedgerState = emptyLedgerState();
  let revision = -1n;
  let lastHash = GENESIS_HASH;
  let transferCount = 0n;
  let snapshotRevision: bigint | null = null;
  let delta = emptyDelta();
  let loaded = emptyLoaded();
  let inFlight: SnapshotInFlight | null = null;
  let eventsSinceSnapshot = 0;
  /** Bumped by every restore, so that a stale snapshot completion is ignored. */
  let generation = 0;
  let isReady = false;
  let needsRestore = true;
  let needsCatchUp = false;
  let crashed: Error | null = null;
  /** Every id ever accepted on this stream may be in it; an id it rules out was never accepted. */
  let idFilter: IdFilter | null = null;
  let closing = false;
  /** Bumped whenever entries may leave memory (eviction, restore): prefetched knowledge expires. */
  let epoch = 0;
  /** The next batch, taken while the previous append was in flight, with its lookups under way. */
  let prefetched: Prefetched | null = null;

  const queue: Submission[] = [];
  let queueHead = 0;
  let queuedTransfers = 0;
  const expiryWaiters: Array<{
    resolve: (result: { expired: number }) => void;
    reject: (error: unknown) => void;
  }> = [];
  let wake: (() => void) | null = null;
  let loop: Promise<void> | null = null;
  const abort = new AbortController();

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

  function kick(): void {
    const resume = wake;
    wake = null;
    resume?.();
  }

  function idle(timeoutMs: number | null): Promise<void> {
    return new Promise((resolve) => {
      const timer = timeoutMs === null ? null : setTimeout(() => kick(), timeoutMs);
      wake = () => {
        if (timer !== null) clearTimeout(timer);
        resolve();
      };
    });
  }

  function queued(): number {
    return queue.length - queueHead;
  }

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
    while (queued() > 0) takeOne().reject(error);
    for (const waiter of expiryWaiters.splice(0)) waiter.reject(error);
  }

  function takeOne(): Submission {
    const next = queue[queueHead];
    assertInvariant(next !== undefined, 'queue underflow');
    queue[queueHead] = undefined as unknown as Submission;
    queueHead += 1;
    queuedTransfers -= next.transfers.length;
    if (queueHead > 1_024 && queueHead * 2 > queue.length) {
      queue.splice(0, queueHead);
      queueHead = 0;
    }
    return next;
  }

  async function runLoop(): Promise<void> {
    while (!(closing && queued() === 0 && prefetched === null && expiryWaiters.length === 0)) {
      settleSnapshot();
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
      if (next === null && queued() === 0) {
        if (closing) break;
        await idle(null);
        continue;
      }
      if (next === null) await waitForFullerBatch();
      await processBatch(next ?? prefetch(takeBatch()));
      maybeStartSnapshot(false);
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
      await restore();
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
    while (queued() > 0 && now - (queue[queueHead]?.enqueuedAtMs ?? now) > unavailableTimeoutMs) {
      takeOne().reject(new LedgerUnavailableError('the ledger writer is not available (lease or database)'));
    }
  }

  async function restore(): Promise<void> {
    await prefetched?.done.catch(() => undefined);
    epoch += 1;
    generation += 1;
    state = emptyLedgerState();
    delta = emptyDelta();
    loaded = emptyLoaded();
    inFlight = null;
    eventsSinceSnapshot = 0;
    const header = await snapshots.readHeader(db, stream);
    revision = header?.revision ?? -1n;
    lastHash = header?.lastHash ?? GENESIS_HASH;
    transferCount = header?.transferCount ?? 0n;
    state.lastTimestampNs = header?.lastTimestampNs ?? 0n;
    snapshotRevision = header?.revision ?? null;
    idFilter = await loadIdFilter();
    if (header !== null) {
      for (const hold of await snapshots.openHolds(db, stream)) {
        state.holds.set(hold.transferId, hold);
        state.openHoldIds.add(hold.transferId);
      }
    }
    await applyTail();
    needsCatchUp = false;
    logger?.info(
      { stream, revision: revision.toString(), transfers: transferCount.toString() },
      'ledger writer restored',
    );
  }

  /** The filter of accepted ids from the snapshot index; null (always look up) past the cap. */
  async function loadIdFilter(): Promise<IdFilter | null> {
    if (idFilterBits === null) return null;
    const filter = createIdFilter(idFilterBits);
    let after: string | null = null;
    for (;;) {
      const ids = await snapshots.transferIdsPage(db, stream, after, 50_000);
      for (const id of ids) filter.add(id);
      if (filter.size > idFilterMaxIds) return null;
      if (ids.length < 50_000) return filter;
      after = ids.at(-1)!;
    }
  }

  /** Folds every event after `revision` into memory, checking that each continues the chain. */
  async function applyTail(): Promise<void> {
    for (;;) {
      let events: RecordedEvent[];
      try {
        events = await store.readStream(stream, { fromRevision: revision + 1n, maxCount: TAIL_PAGE_EVENTS });
      } catch (error) {
        if (error instanceof StreamNotFound) return;
        throw error;
      }
      for (const recorded of events) await applyStored(recorded);
      if (events.length < TAIL_PAGE_EVENTS) return;
    }
  }

  async function applyStored(recorded: RecordedEvent): Promise<void> {
    const where = `${stream}@${recorded.revision}`;
    assertInvariant(recorded.revision === revision + 1n, `${where} does not follow revision ${revision}`);
    assertInvariant(
      recorded.type === LEDGER_EVENT_TYPE,
      `${where} is a ${recorded.type}, not a ledger batch`,
    );
    let event;
    try {
      event = decodeLedgerEvent(recorded.data);
    } catch (error) {
      throw new LedgerInvariantError(`${where} cannot be decoded: ${(error as Error).message}`);
    }
    assertInvariant(event.previousHash === lastHash, `${where} does not continue the hash chain`);
    assertInvariant(chainHash(lastHash, batchBodyBytes(event)) === event.hash, `${where} fails its own hash`);
    const created = new Set(event.accountsCreated.map((account) => account.id));
    await loadReferences(event.transfersAccepted, [], created);
    evolve(state, event);
    for (const transfer of event.transfersAccepted) idFilter?.add(transfer.id);
    revision = recorded.revision;
    lastHash = event.hash;
    transferCount += BigInt(event.transfersAccepted.length);
    recordFolded(delta, state, event, recorded.revision);
    eventsSinceSnapshot += 1;
  }

  /**
   * Catch-up after losing the append race or an append with an unknown outcome. If another
   * writer moved the snapshot header, what this writer evicted may be stale: restore from
   * scratch. Otherwise the tail after our revision is all we missed.
   */
  async function catchUp(): Promise<void> {
    // A lookup still running must not land in the middle of the catch-up.
    await prefetched?.done.catch(() => undefined);
    const header = await snapshots.readHeader(db, stream);
    const ours =
      header === null || header.revision === snapshotRevision || header.revision === inFlight?.revision;
    if (!ours) {
      await restore();
      return;
    }
    await applyTail();
    needsCatchUp = false;
  }

  /**
   * Loads from the snapshot what `transfers` refer to and memory lacks: their accounts, the holds
   * (and pending transfers) they resolve, and, for idempotency, transfers with their ids.
   */
  async function loadReferences(
    transfers: readonly Transfer[],
    idsToCheck: readonly string[],
    createdAccountIds: ReadonlySet<string> = new Set(),
    absent: Set<string> = new Set(),
  ): Promise<void> {
    const missing = missingReferences(state, transfers);
    const accountIds = missing.accountIds.filter(
      (id) => !createdAccountIds.has(id) && !absent.has(`a:${id}`),
    );
    // A pending transfer may be in memory (reloaded for an idempotency check) without its hold.
    const holdIds = new Set(missing.pendingTransferIds);
    for (const transfer of transfers) {
      const pendingId = transfer.pendingId;
      if (pendingId !== undefined && pendingId !== '' && !state.holds.has(pendingId)) holdIds.add(pendingId);
    }
    for (const id of holdIds)
      if (absent.has(`h:${id}`) || (idFilter !== null && !idFilter.mightContain(id))) holdIds.delete(id);
    const transferIds = new Set(missing.pendingTransferIds);
    for (const id of idsToCheck)
      if (id !== '' && id.length <= LIMITS.transferIdMaxLength && !state.transfers.has(id))
        transferIds.add(id);
    for (const id of transferIds) {
      // Never accepted (the filter is sure) or already known to be absent: nothing to look up.
      if (absent.has(`t:${id}`) || (idFilter !== null && !idFilter.mightContain(id))) transferIds.delete(id);
    }
    if (accountIds.length === 0 && holdIds.size === 0 && transferIds.size === 0) return;
    const found = await snapshots.lookup(db, stream, {
      accountIds,
      transferIds: [...transferIds],
      holdIds: [...holdIds],
    });
    absorb(state, loaded, found);
    for (const id of accountIds) if (!state.accounts.has(id)) absent.add(`a:${id}`);
    for (const id of holdIds) if (!state.holds.has(id)) absent.add(`h:${id}`);
    for (const id of transferIds) if (!state.transfers.has(id)) absent.add(`t:${id}`);
  }

  /** Starts the lookups of a batch (while the previous append is in flight). */
  function prefetch(batch: Submission[]): Prefetched {
    const absent = new Set<string>();
    const transfers = batch.flatMap((submission) => submission.transfers);
    const done = loadReferences(
      transfers,
      transfers.map((transfer) => transfer.id),
      new Set(),
      absent,
    );
    done.catch(() => undefined); // awaited (and reported) by processBatch
    return { batch, epoch, absent, done };
  }

  function takeBatch(): Submission[] {
    const batch: Submission[] = [];
    let count = 0;
    let bytes = 0;
    while (queued() > 0) {
      const next = queue[queueHead]!;
      const full =
        count + next.transfers.length > maxBatchTransfers || bytes + next.estimatedBytes > EVENT_BUDGET_BYTES;
      if (batch.length > 0 && full) break;
      batch.push(takeOne());
      count += next.transfers.length;
      bytes += next.estimatedBytes;
    }
    return batch;
  }

  async function waitForFullerBatch(): Promise<void> {
    if (batchWaitMs <= 0) return;
    const oldest = queue[queueHead];
    if (oldest === undefined) return;
    for (;;) {
      const remainingMs = oldest.enqueuedAtMs + batchWaitMs - Date.now();
      if (remainingMs <= 0 || queuedTransfers >= maxBatchTransfers || closing) return;
      await idle(remainingMs);
    }
  }

  interface Plan {
    readonly transfers: Transfer[];
    readonly parts: Array<{ offset: number; decided: number; openResults: TransferOutcome[] }>;
  }

  function plan(batch: readonly Submission[]): Plan {
    const transfers: Transfer[] = [];
    const parts: Plan['parts'] = [];
    for (const submission of batch) {
      const { decided, openResults } = splitOpenChain(submission.transfers);
      parts.push({ offset: transfers.length, decided, openResults });
      for (let index = 0; index < decided; index += 1) transfers.push(submission.transfers[index]!);
    }
    return { transfers, parts };
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
    const planned = plan(batch);
    for (let attempt = 0; attempt <= MAX_RACE_RETRIES; attempt += 1) {
      let absent = new Set<string>();
      if (fetched !== null && attempt === 0) {
        await fetched.done;
        if (fetched.epoch === epoch) absent = fetched.absent;
      }
      // Loads whatever is still missing (nothing, when the prefetch is fresh): decide right after.
      await loadReferences(
        planned.transfers,
        planned.transfers.map((transfer) => transfer.id),
        new Set(),
        absent,
      );
      const accounts = accountsToOpen(state, planned.transfers);
      const outcome = decideBatch(state, { accounts, transfers: planned.transfers }, clock());
      const empty = outcome.body.transfersAccepted.length === 0;
      const body = empty ? { accountsCreated: [], transfersAccepted: [] } : outcome.body;
      if (!empty) {
        const sealed = sealEncoded(lastHash, body);
        const data = sealed.data;
        if (JSON.stringify(data).length > EVENT_BUDGET_BYTES) return splitOversized(batch);
        // Pipelining: the next batch's lookups run while this append is in flight.
        if (prefetched === null && queued() > 0 && !closing) prefetched = prefetch(takeBatch());
        const appended = await appendEvent(data);
        if (appended === null) {
          await catchUp();
          continue;
        }
        commit(outcome.changes, sealed.hash, body, appended);
      }
      settle(batch, planned, outcome.transferResults, body.transfersAccepted);
      return;
    }
    for (const submission of batch) {
      submission.reject(new LedgerUnavailableError('the ledger stream kept moving under this writer; retry'));
    }
  }

  /** Appends one batch event with the expected revision; null when another writer got there first. */
  async function appendEvent(data: LedgerEventData): Promise<bigint | null> {
    try {
      const result = await store.append(stream, [{ id: randomUUID(), type: LEDGER_EVENT_TYPE, data }], {
        expectedRevision: revision < 0n ? 'no_stream' : revision,
      });
      return result.nextRevision;
    } catch (error) {
      if ((error as Error).name === 'WrongExpectedVersion') {
        logger?.warn(
          { stream, revision: revision.toString() },
          'ledger writer lost the append race: catching up',
        );
        return null;
      }
      throw error;
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

  function commit(
    changes: LedgerChanges,
    hash: string,
    body: LedgerBatchBody,
    appendedRevision: bigint,
  ): void {
    assertInvariant(
      appendedRevision === revision + 1n,
      `appended at ${appendedRevision}, expected ${revision + 1n}`,
    );
    commitChanges(state, changes);
    for (const transfer of body.transfersAccepted) idFilter?.add(transfer.id);
    revision = appendedRevision;
    lastHash = hash;
    transferCount += BigInt(body.transfersAccepted.length);
    recordChanges(delta, changes, appendedRevision);
    eventsSinceSnapshot += 1;
  }

  function settle(
    batch: readonly Submission[],
    planned: Plan,
    results: Parameters<typeof callerOutcomes>[0],
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
    const nowNs = BigInt(nowMs) * 1_000_000n;
    const dueAccounts: Transfer[] = [];
    for (const id of state.openHoldIds) {
      const hold = state.holds.get(id);
      if (hold === undefined || hold.expiresAtNs === null || hold.expiresAtNs > nowNs) continue;
      dueAccounts.push({
        id,
        debitAccountId: hold.debitAccountId,
        creditAccountId: hold.creditAccountId,
        amountMinor: 0n,
        currency: hold.currency,
        code: 'hold_expiry',
        flags: {},
      });
    }
    await loadReferences(dueAccounts, []);
    const outcome = expirePendingTransfers(state, nowMs, EXPIRY_BATCH);
    if (outcome.accepted.length === 0) return { count: 0, remaining: 0 };
    const body: LedgerBatchBody = { accountsCreated: [], transfersAccepted: outcome.accepted };
    const sealed = sealEncoded(lastHash, body);
    const appended = await appendEvent(sealed.data);
    if (appended === null) {
      await catchUp();
      return null;
    }
    commit(outcome.changes, sealed.hash, body, appended);
    maybeStartSnapshot(false);
    return { count: outcome.accepted.length, remaining: outcome.remaining };
  }

  function maybeStartSnapshot(force: boolean): SnapshotInFlight | null {
    if (inFlight !== null) return inFlight;
    const due = eventsSinceSnapshot >= snapshotEveryEvents || delta.transfers.size >= snapshotEveryTransfers;
    if (isDeltaEmpty(delta) || (!force && !due)) return null;
    const written = delta;
    const header = { revision, lastHash, lastTimestampNs: state.lastTimestampNs, transferCount };
    const previous = snapshotRevision;
    const startedIn = generation;
    delta = emptyDelta();
    eventsSinceSnapshot = 0;
    const flight: SnapshotInFlight = {
      delta: written,
      revision,
      status: 'writing',
      done: snapshots
        .writeSnapshot(db, stream, previous, snapshotWrite(written, header))
        .then(
          (ok) => {
            flight.status = ok ? 'written' : 'conflict';
          },
          (error: unknown) => {
            logger?.error({ err: error, stream }, 'ledger snapshot failed; its entries stay in memory');
            flight.status = 'failed';
          },
        )
        .finally(() => {
          if (startedIn === generation) kick();
        }),
    };
    inFlight = flight;
    return flight;
  }

  /** At a safe point of the loop (never between loading and deciding): applies a finished snapshot. */
  function settleSnapshot(): void {
    const flight = inFlight;
    if (flight === null || flight.status === 'writing') return;
    inFlight = null;
    switch (flight.status) {
      case 'written': {
        epoch += 1;
        snapshotRevision = flight.revision;
        const evicted = evictAfterSnapshot(state, flight.delta, delta, loaded);
        logger?.debug({ stream, revision: flight.revision.toString(), evicted }, 'ledger snapshot written');
        return;
      }
      case 'failed':
        delta = mergeBack(flight.delta, delta);
        return;
      case 'conflict':
        // Another writer moved the header: what we hold may be stale.
        logger?.warn({ stream }, 'ledger snapshot header moved under this writer: restoring');
        needsRestore = true;
        return;
      default: {
        const unreachable: never = flight.status;
        throw new Error(`unknown snapshot status ${String(unreachable)}`);
      }
    }
  }

  function view(account: Account): LedgerAccountView {
    return {
      ...account,
      availableMinor: account.creditsPosted - account.debitsPosted - account.debitsPending,
    };
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
      if (queuedTransfers + transfers.length > maxQueuedTransfers) {
        return Promise.reject(new LedgerOverloadedError('the ledger queue is full; retry shortly'));
      }
      const copy = [...transfers];
      const estimatedBytes = copy.reduce((sum, transfer) => sum + estimatedTransferBytes(transfer), 0);
      return new Promise<TransferOutcome[]>((resolve, reject) => {
        queue.push({ transfers: copy, estimatedBytes, enqueuedAtMs: Date.now(), resolve, reject });
        queuedTransfers += copy.length;
        startLoop();
        if (batchWaitMs <= 0 || queuedTransfers >= maxBatchTransfers) kick();
        else if (queued() === 1) kick();
      });
    },

    async account(id) {
      await waitUntilReady();
      const inMemory = state.accounts.get(id);
      if (inMemory !== undefined) return view(inMemory);
      // Not in memory means unchanged since the last snapshot: its row is current.
      const stored = await snapshots.readAccount(db, stream, id);
      return stored === null ? null : view(stored);
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
        const flight = maybeStartSnapshot(true);
        if (flight === null) return;
        await flight.done;
        kick();
        if (flight.status === 'written' && isDeltaEmpty(delta)) return;
      }
    },

    head: () => ({ stream, revision, hash: lastHash, transferCount, snapshotRevision }),

    memory: () => ({
      accounts: state.accounts.size,
      transfers: state.transfers.size,
      holds: state.holds.size,
      openHolds: state.openHoldIds.size,
      queuedTransfers,
      dirtyEntries: delta.accounts.size + delta.transfers.size + delta.holds.size,
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
          await inFlight?.done;
          settleSnapshot();
          const flight = maybeStartSnapshot(true);
          await flight?.done;
        }
      }
      await lease?.release();
    },
  };
}
