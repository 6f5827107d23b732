import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { StreamNotFound, type EventStore, type RecordedEvent } from '../../src/eventstore/index.js';
import type { Transfer } from '../rules/index.js';
import { LEDGER_EVENT_TYPE, type LedgerEventData } from './events.js';
import { createIdFilter, type IdFilter } from './id-filter.js';
import { absorb, snapshotWrite } from './memory.js';
import * as snapshots from './snapshot-repository.js';
import {
  adoptHeader,
  adoptOpenHolds,
  clearForRestore,
  foldEvent,
  noteAbsent,
  referencesToLoad,
  verifyNextEvent,
  type SnapshotCut,
  type WriterState,
} from './writer-state.js';

/**
 * The writer's I/O, apart from its state and its loop: restoring from the snapshot and the
 * stream's tail, loading what a batch refers to, appending a batch event, writing a snapshot.
 * Each function reads or writes, then hands what it read to the pure functions of writer-state.ts.
 */
export interface WriterIo {
  readonly store: EventStore;
  readonly db: snapshots.SnapshotDb;
  readonly stream: string;
  /** Bits of the accepted-id filter; null turns it off (always look up). */
  readonly idFilterBits: number | null;
  /** Ids read into the filter at restore before giving up on it. */
  readonly idFilterMaxIds: number;
  readonly logger: Logger | undefined;
}

/** Events read per page when catching up (each holds up to 256 KiB). */
const TAIL_PAGE_EVENTS = 64;
/** Accepted ids read per page into the filter at restore. */
const ID_FILTER_PAGE = 50_000;

/**
 * Restart = the snapshot header and its open holds, then the stream's tail after the header's
 * revision, each event checked to continue the hash chain. Everything else loads lazily.
 */
export async function restore(io: WriterIo, state: WriterState): Promise<void> {
  clearForRestore(state);
  const header = await snapshots.readHeader(io.db, io.stream);
  adoptHeader(state, header);
  state.idFilter = await loadIdFilter(io);
  if (header !== null) adoptOpenHolds(state, await snapshots.openHolds(io.db, io.stream));
  await applyTail(io, state);
  io.logger?.info(
    { stream: io.stream, revision: state.revision.toString(), transfers: state.transferCount.toString() },
    'ledger writer restored',
  );
}

/** The filter of accepted ids from the snapshot index; null (always look up) past the cap. */
async function loadIdFilter(io: WriterIo): Promise<IdFilter | null> {
  if (io.idFilterBits === null) return null;
  const filter = createIdFilter(io.idFilterBits);
  let after: string | null = null;
  for (;;) {
    const ids = await snapshots.transferIdsPage(io.db, io.stream, after, ID_FILTER_PAGE);
    for (const id of ids) filter.add(id);
    if (filter.size > io.idFilterMaxIds) return null;
    if (ids.length < ID_FILTER_PAGE) return filter;
    after = ids.at(-1)!;
  }
}

/** Folds every event after the state's revision into memory, checking that each continues the chain. */
export async function applyTail(io: WriterIo, state: WriterState): Promise<void> {
  for (;;) {
    let events: RecordedEvent[];
    try {
      events = await io.store.readStream(io.stream, {
        fromRevision: state.revision + 1n,
        maxCount: TAIL_PAGE_EVENTS,
      });
    } catch (error) {
      if (error instanceof StreamNotFound) return;
      throw error;
    }
    for (const recorded of events) {
      const event = verifyNextEvent(state, io.stream, recorded);
      const created = new Set(event.accountsCreated.map((account) => account.id));
      await loadReferences(io, state, event.transfersAccepted, [], created);
      foldEvent(state, event, recorded.revision);
    }
    if (events.length < TAIL_PAGE_EVENTS) return;
  }
}

/**
 * After losing the append race or an append with an unknown outcome: true when the snapshot
 * header is still this writer's (the tail is all it missed), false when another writer moved it
 * (what this writer evicted may be stale: restore from scratch).
 */
export async function snapshotStillOurs(
  io: WriterIo,
  state: WriterState,
  writingRevision: bigint | undefined,
): Promise<boolean> {
  const header = await snapshots.readHeader(io.db, io.stream);
  return header === null || header.revision === state.snapshotRevision || header.revision === writingRevision;
}

/**
 * Loads from the snapshot what `transfers` refer to and memory lacks (see `referencesToLoad`),
 * and notes in `absent` what the snapshot does not hold either.
 */
export async function loadReferences(
  io: WriterIo,
  state: WriterState,
  transfers: readonly Transfer[],
  idsToCheck: readonly string[],
  createdAccountIds: ReadonlySet<string> = new Set(),
  absent: Set<string> = new Set(),
): Promise<void> {
  const lookup = referencesToLoad(state, transfers, idsToCheck, createdAccountIds, absent);
  if (lookup === null) return;
  const found = await snapshots.lookup(io.db, io.stream, {
    accountIds: lookup.accountIds,
    transferIds: [...lookup.transferIds],
    holdIds: [...lookup.holdIds],
  });
  absorb(state.ledger, state.loaded, found);
  noteAbsent(state, lookup, absent);
}

/** Appends one batch event with the expected revision; null when another writer got there first. */
export async function appendEvent(
  io: WriterIo,
  state: WriterState,
  data: LedgerEventData,
): Promise<bigint | null> {
  try {
    const result = await io.store.append(io.stream, [{ id: randomUUID(), type: LEDGER_EVENT_TYPE, data }], {
      expectedRevision: state.revision < 0n ? 'no_stream' : state.revision,
    });
    return result.nextRevision;
  } catch (error) {
    if ((error as Error).name === 'WrongExpectedVersion') {
      io.logger?.warn(
        { stream: io.stream, revision: state.revision.toString() },
        'ledger writer lost the append race: catching up',
      );
      return null;
    }
    throw error;
  }
}

/**
 * Writes a cut snapshot in one transaction, moving the header by compare-and-set: 'written',
 * 'conflict' (another writer moved the header) or 'failed' (its entries must stay in memory).
 */
export async function writeSnapshot(
  io: WriterIo,
  cut: SnapshotCut,
): Promise<'written' | 'conflict' | 'failed'> {
  try {
    const ok = await snapshots.writeSnapshot(
      io.db,
      io.stream,
      cut.previousRevision,
      snapshotWrite(cut.delta, cut.header),
    );
    return ok ? 'written' : 'conflict';
  } catch (error) {
    io.logger?.error({ err: error, stream: io.stream }, 'ledger snapshot failed; its entries stay in memory');
    return 'failed';
  }
}
