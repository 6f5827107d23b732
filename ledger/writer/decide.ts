import {
  decideBatch,
  expirePendingTransfers,
  type BatchOutcome,
  type LedgerBatchBody,
  type LedgerChanges,
  type Transfer,
} from '../rules/index.js';
import { accountsToOpen } from './batch.js';
import { sealEncoded, type LedgerEventData } from './events.js';
import type { WriterState } from './writer-state.js';

/**
 * The writer's decisions, pure: a batch (or the holds due) decided by the rules against the
 * writer's memory, and sealed into the hash chain as the event to append. Nothing changes in
 * memory until the event is durable (writer-state.ts `commitAppended`).
 */

/** A sealed event ready to append, and what committing it changes. */
export interface SealedBatch {
  readonly body: LedgerBatchBody;
  readonly changes: LedgerChanges;
  readonly hash: string;
  readonly data: LedgerEventData;
}

export interface BatchDecision {
  readonly outcome: BatchOutcome;
  /** What the callers get back as accepted (empty when nothing was). */
  readonly body: LedgerBatchBody;
  /** Null when nothing was accepted: nothing to append. */
  readonly sealed: SealedBatch | null;
  /** False when the sealed event is over `maxEventBytes`: split the batch and decide again. */
  readonly fits: boolean;
}

const EMPTY_BODY: LedgerBatchBody = { accountsCreated: [], transfersAccepted: [] };

/**
 * Decides `transfers` against memory (everything they refer to loaded first), opening the chart
 * accounts they name that do not exist yet, and seals what was accepted after the last hash.
 */
export function decideTransfers(
  state: WriterState,
  transfers: readonly Transfer[],
  nowMs: number,
  maxEventBytes: number,
): BatchDecision {
  const accounts = accountsToOpen(state.ledger, transfers);
  const outcome = decideBatch(state.ledger, { accounts, transfers }, nowMs);
  if (outcome.body.transfersAccepted.length === 0)
    return { outcome, body: EMPTY_BODY, sealed: null, fits: true };
  const { hash, data } = sealEncoded(state.lastHash, outcome.body);
  const fits = JSON.stringify(data).length <= maxEventBytes;
  return {
    outcome,
    body: outcome.body,
    sealed: { body: outcome.body, changes: outcome.changes, hash, data },
    fits,
  };
}

/**
 * The hold_expiry transfers of at most `limit` holds due at `nowMs`, sealed; null when none is
 * due. `remaining`: holds due that did not fit (decide again after committing).
 */
export function decideExpiries(
  state: WriterState,
  nowMs: number,
  limit: number,
): { sealed: SealedBatch; remaining: number } | null {
  const outcome = expirePendingTransfers(state.ledger, nowMs, limit);
  if (outcome.accepted.length === 0) return null;
  const body: LedgerBatchBody = { accountsCreated: [], transfersAccepted: outcome.accepted };
  const { hash, data } = sealEncoded(state.lastHash, body);
  return { sealed: { body, changes: outcome.changes, hash, data }, remaining: outcome.remaining };
}
